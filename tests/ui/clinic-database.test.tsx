// @vitest-environment jsdom
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ClinicDatabase } from '../../renderer/components/ClinicDatabase.tsx';
import { FakeApi } from './fake-api.ts';
import { renderWithI18n } from './render.tsx';

const URL = 'postgres://eardrum@db.clinic.lan:5432/clinic';

describe('Settings → Clinic database', () => {
  it('tests the connection, says a wrong password plainly, saves for the next start and clears the password', async () => {
    const api = new FakeApi();
    renderWithI18n(<ClinicDatabase api={api} />, 'en');
    await waitFor(() =>
      expect(screen.getByTestId('clinic-db-current')).toHaveTextContent(
        "This workstation's database (/data/eardrum.sqlite)",
      ),
    );
    expect(
      screen.getByText(/file readable only by this computer account \(\/data\/database-password\)/),
    ).toBeVisible();
    const test = screen.getByRole('button', { name: 'Test connection' });
    expect(test).toBeDisabled();
    await userEvent.type(screen.getByRole('textbox', { name: 'Database address (PostgreSQL URL)' }), URL);
    const password = screen.getByLabelText('Password');
    expect(password).toHaveAttribute('type', 'password');
    await userEvent.type(password, 'wrong');
    await userEvent.click(test);
    expect(await screen.findByRole('alert')).toHaveTextContent('The server refused the password');
    await userEvent.clear(password);
    await userEvent.type(password, 'right-pw');
    await userEvent.click(test);
    expect(await screen.findByRole('status')).toHaveTextContent(
      'Connected (PostgreSQL 15.8). The database is empty: it will be set up at the next start.',
    );
    expect(api.callsTo('database.test')).toEqual([
      { url: URL, password: 'wrong' },
      { url: URL, password: 'right-pw' },
    ]);
    await userEvent.click(screen.getByRole('button', { name: 'Use at next start' }));
    await waitFor(() =>
      expect(screen.getByTestId('clinic-db-next')).toHaveTextContent(
        'Clinic database (PostgreSQL) eardrum@db.clinic.lan:5432/clinic · restart the workstation to switch',
      ),
    );
    expect(password).toHaveValue('');
    await userEvent.click(screen.getByRole('button', { name: "Back to this workstation's database" }));
    await waitFor(() =>
      expect(screen.getByTestId('clinic-db-next')).toHaveTextContent("This workstation's database"),
    );
    expect(screen.queryByRole('button', { name: "Back to this workstation's database" })).toBeNull();
  });

  it('speaks Korean, names the keychain, and words a URL holding a password as such', async () => {
    const api = new FakeApi();
    api.database = { ...api.database, passwordKept: 'keychain', source: 'command_line' };
    renderWithI18n(<ClinicDatabase api={api} />, 'ko');
    expect(
      await screen.findByText(
        '비밀번호는 시스템 키체인으로 암호화되어 보관되며, 평문으로 저장되거나 다시 표시되지 않습니다.',
      ),
    ).toBeVisible();
    expect(screen.getByTestId('clinic-db-current')).toHaveTextContent('--db로 지정되어');
    await userEvent.type(
      screen.getByRole('textbox', { name: '데이터베이스 주소 (PostgreSQL URL)' }),
      'postgres://a:pw@h/db',
    );
    api.failures.set('database.test', { code: 'invalid_args', message: 'Leave the password out of the URL' });
    await userEvent.click(screen.getByRole('button', { name: '연결 테스트' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      '비밀번호는 주소가 아닌 비밀번호 칸에 입력하세요',
    );
  });

  it('checks the shared library folder with the connection, says a wrong share plainly, and saves it with the server', async () => {
    const api = new FakeApi();
    renderWithI18n(<ClinicDatabase api={api} />, 'en');
    await waitFor(() =>
      expect(screen.getByTestId('clinic-db-library-current')).toHaveTextContent(
        "This workstation's own library (/data/library)",
      ),
    );
    // Serve mode: typed in full, no folder picker.
    expect(screen.queryByRole('button', { name: 'Choose library folder…' })).toBeNull();
    await userEvent.type(screen.getByRole('textbox', { name: 'Database address (PostgreSQL URL)' }), URL);
    await userEvent.type(screen.getByLabelText('Password'), 'right-pw');
    const folder = screen.getByRole('textbox', {
      name: 'Shared library folder (photos, thumbnails, heatmaps)',
    });
    await userEvent.type(folder, '/mnt/usb-stick');
    await userEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'does not hold the photos this database already has',
    );
    await userEvent.clear(folder);
    await userEvent.type(folder, '/mnt/clinic/eardrum-library');
    await userEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    expect(await screen.findByRole('status')).toHaveTextContent(
      'The database is empty: it will be set up at the next start. The library folder is there and this account can write in it',
    );
    await userEvent.click(screen.getByRole('button', { name: 'Use at next start' }));
    await waitFor(() =>
      expect(screen.getByTestId('clinic-db-library-next')).toHaveTextContent(
        'Shared library (/mnt/clinic/eardrum-library) · restart the workstation to switch',
      ),
    );
    expect(api.callsTo('database.use')).toEqual([
      { kind: 'postgres', url: URL, password: 'right-pw', library: '/mnt/clinic/eardrum-library' },
    ]);
  });

  it('offers the folder picker in the desktop app and fills in a saved folder, in Korean', async () => {
    const api = new FakeApi();
    api.transport = 'electron';
    api.database = {
      ...api.database,
      library: {
        current: { dir: '/mnt/old-share', shared: true },
        source: 'command_line',
        next: { dir: '/mnt/old-share', shared: true },
      },
    };
    renderWithI18n(<ClinicDatabase api={api} />, 'ko');
    const folder = await screen.findByRole('textbox', { name: '공유 보관 폴더 (사진, 썸네일, 히트맵)' });
    await waitFor(() => expect(folder).toHaveValue('/mnt/old-share'));
    expect(screen.getByTestId('clinic-db-library-current')).toHaveTextContent('--library로 지정되어');
    await userEvent.click(screen.getByRole('button', { name: '보관 폴더 선택…' }));
    expect(folder).toHaveValue('/mnt/clinic/eardrum-library');
    expect(api.callsTo('dialog.chooseLibraryDir')).toHaveLength(1);
  });
});
