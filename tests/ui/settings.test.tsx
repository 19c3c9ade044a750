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

  it('saves folder options, threshold, language and reviewer in one update', async () => {
    const api = new FakeApi();
    const { saved } = setup(api);
    const folder = screen.getByRole('textbox', { name: 'Folder path' });
    await userEvent.clear(folder);
    await userEvent.type(folder, '/mnt/otoscope');
    await userEvent.click(screen.getByRole('checkbox', { name: 'Include sub-folders' }));
    await userEvent.click(screen.getByRole('checkbox', { name: /Poll the folder/ }));
    const threshold = screen.getByRole('spinbutton', { name: 'Minimum eardrum likelihood' });
    expect(threshold).toHaveValue(0.5);
    await userEvent.clear(threshold);
    await userEvent.type(threshold, '0.7');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Language' }), 'ko');
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
      thresholds: { eardrum: 0.7 },
      language: 'ko',
      reviewerName: 'Dr. Park',
    });
    expect(saved[0]?.watchDir).toBe('/mnt/otoscope');
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
