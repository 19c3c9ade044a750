// @vitest-environment jsdom
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Settings } from '../../common/contract.ts';
import { SettingsView } from '../../renderer/views/SettingsView.tsx';
import { CARD, FakeApi } from './fake-api.ts';
import { renderWithI18n } from './render.tsx';

function setup(api: FakeApi, language: 'en' | 'ko' = 'en') {
  const saved: Settings[] = [];
  const view = renderWithI18n(
    <SettingsView
      api={api}
      card={CARD}
      settings={api.settings}
      onSaved={(s) => saved.push(s)}
      dataDir="/data"
      debounceMs={0}
    />,
    language,
  );
  return { ...view, saved };
}

describe('Settings view', () => {
  it('previews the file-name pattern live as the sample changes', async () => {
    const api = new FakeApi();
    setup(api);
    const preview = screen.getByTestId('pattern-preview');
    await waitFor(() => expect(preview).toHaveTextContent('Patient P12345, ear Left'));
    const sample = screen.getByRole('textbox', { name: 'Example file name' });
    await userEvent.clear(sample);
    await userEvent.type(sample, 'K77_R_x.jpg');
    await waitFor(() => expect(preview).toHaveTextContent('Patient K77, ear Right'));
    await userEvent.clear(sample);
    await userEvent.type(sample, 'IMG0001.jpg');
    await waitFor(() => expect(preview).toHaveTextContent('No match: patient and ear would be unknown.'));
  });

  it('reports an invalid pattern', async () => {
    const api = new FakeApi();
    setup(api);
    const field = screen.getByRole('textbox', { name: 'File-name pattern for patient and ear' });
    await userEvent.clear(field);
    await userEvent.type(field, 're:(');
    await waitFor(() => expect(screen.getByTestId('pattern-preview')).toHaveTextContent('Invalid pattern'));
  });

  it('saves folder options, language and reviewer in one update, never the thresholds', async () => {
    const api = new FakeApi();
    const { saved } = setup(api);
    const folder = screen.getByRole('textbox', { name: 'Folder path' });
    await userEvent.clear(folder);
    await userEvent.type(folder, '/mnt/otoscope');
    await userEvent.click(screen.getByRole('checkbox', { name: 'Include sub-folders' }));
    await userEvent.click(screen.getByRole('checkbox', { name: /Poll the folder/ }));
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Language' }), 'ko');
    await userEvent.type(
      screen.getByRole('textbox', { name: 'Clinic name (printed on reports)' }),
      'Seoul Ear Clinic',
    );
    const reviewer = screen.getByRole('textbox', { name: 'Reviewer name (used for reviews)' });
    await userEvent.clear(reviewer);
    await userEvent.type(reviewer, 'Dr. Park');
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findByText('Settings saved')).toBeInTheDocument();
    const update = api.callsTo('settings.update')[0] as Settings;
    expect(update).toMatchObject({
      watchDir: '/mnt/otoscope',
      recursive: false,
      usePolling: true,
      language: 'ko',
      reviewerName: 'Dr. Park',
      clinicName: 'Seoul Ear Clinic',
    });
    expect(update).not.toHaveProperty('thresholds');
    expect(saved[0]?.watchDir).toBe('/mnt/otoscope');
  });

  it("says which settings are this workstation's and which the clinic's, in English and Korean", async () => {
    const api = new FakeApi();
    const group = (legend: string) => screen.getByRole('group', { name: legend });
    const { unmount } = setup(api);
    for (const legend of ['Watched folder', 'File-name pattern for patient and ear', 'Language'])
      expect(group(legend)).toHaveTextContent(/This workstation’s own: other rooms .* keep theirs\./);
    expect(group('Clinic')).toHaveTextContent(/The clinic’s: one value for every room/);
    expect(
      within(group('Clinic')).getByRole('textbox', { name: 'Clinic name (printed on reports)' }),
    ).toBeVisible();
    expect(screen.getByTestId('advanced-settings')).toHaveTextContent(/The clinic’s/);
    unmount();
    setup(api, 'ko');
    expect(group('감시 폴더')).toHaveTextContent('이 워크스테이션 전용');
    expect(group('병원')).toHaveTextContent('병원 공통');
  });

  it('offers "Automatic" as the language, saved as no choice', async () => {
    const api = new FakeApi();
    setup(api);
    const select = screen.getByRole('combobox', { name: 'Language' });
    expect(select).toHaveAccessibleDescription(/Automatic uses Korean or English/);
    await userEvent.selectOptions(select, '');
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    await screen.findByText('Settings saved');
    expect(api.callsTo('settings.update')[0]).toMatchObject({ language: null });
  });

  it('keeps the thresholds under Advanced: readable values, a sentence each, only eardrum editable', async () => {
    const api = new FakeApi();
    const card = {
      ...CARD,
      thresholds: {
        eardrum: 0.01,
        minBrightP95: 40,
        maxClipped: 0.44551653780068734,
        minSharpness: 3.177,
        minSide: 64,
      },
    };
    renderWithI18n(
      <SettingsView api={api} card={card} settings={api.settings} onSaved={() => undefined} debounceMs={0} />,
    );
    const advanced = screen.getByTestId('advanced-settings');
    expect(advanced.tagName).toBe('DETAILS');
    expect(advanced).not.toHaveAttribute('open');
    expect(screen.getByTestId('threshold-maxClipped')).toHaveTextContent('44.6%');
    expect(screen.getByTestId('threshold-minSide')).toHaveTextContent('64 px');
    expect(screen.getByTestId('threshold-minSharpness')).toHaveTextContent('3.2');
    expect(screen.getByTestId('threshold-eardrum')).toHaveTextContent('1.0%');
    expect(advanced).not.toHaveTextContent('0.4455');
    for (const li of advanced.querySelectorAll('li.threshold')) {
      expect(li.querySelector('.threshold-help')?.textContent?.length).toBeGreaterThan(20);
    }
    // One number field only: the eardrum threshold.
    expect(within(advanced).getAllByRole('spinbutton')).toHaveLength(1);
  });

  it('asks for confirmation and a name before changing a threshold, and records who and when', async () => {
    const api = new FakeApi();
    api.settings.reviewerName = '';
    const saved: Settings[] = [];
    renderWithI18n(
      <SettingsView
        api={api}
        card={CARD}
        settings={api.settings}
        onSaved={(s) => saved.push(s)}
        debounceMs={0}
      />,
    );
    const advanced = screen.getByTestId('advanced-settings');
    await userEvent.click(within(advanced).getByText('Advanced: how photos are judged'));
    await userEvent.type(
      within(advanced).getByRole('spinbutton', { name: 'New value for Minimum eardrum likelihood (%)' }),
      '70',
    );
    await userEvent.click(within(advanced).getByRole('button', { name: 'Change…' }));
    const dialog = screen.getByRole('alertdialog');
    expect(dialog).toHaveTextContent('Change “Minimum eardrum likelihood” from 50.0% to 70.0%?');
    expect(api.callsTo('settings.changeThreshold')).toEqual([]);
    // Cancel changes nothing.
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    await userEvent.click(within(advanced).getByRole('button', { name: 'Change…' }));
    await userEvent.click(screen.getByRole('button', { name: 'Yes, change it' }));
    expect(screen.getByRole('alert')).toHaveTextContent('Enter your name');
    expect(api.callsTo('settings.changeThreshold')).toEqual([]);
    await userEvent.type(
      screen.getByRole('textbox', { name: 'Your name (recorded with the change)' }),
      'Dr. Han',
    );
    await userEvent.click(screen.getByRole('button', { name: 'Yes, change it' }));
    await waitFor(() =>
      expect(api.callsTo('settings.changeThreshold')).toEqual([
        { name: 'eardrum', value: 0.7, changedBy: 'Dr. Han' },
      ]),
    );
    expect(saved.at(-1)?.thresholds).toEqual({ eardrum: 0.7 });
    expect(api.callsTo('settings.update')).toEqual([]);
  });

  it('lists recorded threshold changes with who and when, in Korean', async () => {
    const api = new FakeApi();
    api.changes = [
      {
        id: 1,
        key: 'thresholds.eardrum',
        oldValue: null,
        newValue: 0.05,
        changedBy: '김의사',
        changedAt: '2026-11-25T11:00:00.000Z',
      },
    ];
    setup(api, 'ko');
    const history = await screen.findByTestId('threshold-history');
    expect(history).toHaveTextContent('김의사: 최소 고막 가능성을(를) 모델 기본값에서 5.0%(으)로 변경');
    expect(history.querySelector('time')).toHaveAttribute('datetime', '2026-11-25T11:00:00.000Z');
  });

  it('shows the engine refusal when saving fails', async () => {
    const api = new FakeApi();
    api.failures.set('settings.update', { code: 'io_error', message: 'folder missing' });
    setup(api);
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('A file could not be read or written.');
  });

  it('offers the folder picker only in the desktop app', async () => {
    const browser = new FakeApi();
    const first = setup(browser);
    expect(screen.queryByRole('button', { name: 'Choose folder…' })).toBeNull();
    expect(screen.getByText(/folder picker is available in the desktop app/)).toBeInTheDocument();
    first.unmount();
    const desktop = new FakeApi();
    desktop.transport = 'electron';
    setup(desktop);
    await userEvent.click(screen.getByRole('button', { name: 'Choose folder…' }));
    await waitFor(() =>
      expect(screen.getByRole('textbox', { name: 'Folder path' })).toHaveValue('/chosen/folder'),
    );
  });

  it('shows the model card: labels with their names, metrics and licences', async () => {
    setup(new FakeApi(), 'ko');
    const card = screen.getByTestId('model-card');
    expect(card).toHaveTextContent('eardrum-mnv2');
    const rows = within(within(card).getByRole('table')).getAllByRole('row');
    expect(rows).toHaveLength(CARD.labels.length + 1);
    expect(rows[2]).toHaveTextContent('급성 중이염');
    expect(rows[2]).toHaveTextContent('예');
    expect(card).toHaveTextContent('Macro F1');
    expect(card).toHaveTextContent('CC BY 4.0 (OtoMatch images)');
    expect(screen.getByRole('heading', { name: '모델 정보' })).toBeInTheDocument();
  });
});
