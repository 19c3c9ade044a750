// @vitest-environment jsdom
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ReportView } from '../../renderer/views/ReportView.tsx';
import { FakeApi, LABELS, makeRecord } from './fake-api.ts';
import { renderWithI18n } from './render.tsx';

function setup(api: FakeApi, ids: number[], language: 'en' | 'ko' = 'en', clinicName = 'Seoul Ear Clinic') {
  const printed: number[] = [];
  const back: number[] = [];
  renderWithI18n(
    <ReportView
      api={api}
      ids={ids}
      card={LABELS}
      clinicName={clinicName}
      appVersion="0.1.0"
      onBack={() => back.push(1)}
      print={() => printed.push(1)}
    />,
    language,
  );
  return { printed, back };
}

function reviewed(api: FakeApi, id: number) {
  api.reviews.set(id, [
    {
      id: 1,
      recordId: id,
      action: 'override',
      label: 'effusion',
      note: 'Fluid level behind the drum',
      reviewer: 'Dr. Han',
      createdAt: '2026-11-25T10:05:00.000Z',
    },
  ]);
}

describe('Report', () => {
  it('has everything a patient file needs: clinic, patient, ear, time, photo, answer, model, review, disclaimer', async () => {
    const api = new FakeApi([
      makeRecord({ id: 31, patientId: 'P31', ear: 'right', modelLabel: 'aom', reviewedLabel: 'effusion' }),
    ]);
    reviewed(api, 31);
    setup(api, [31]);
    const page = await screen.findByTestId('report-page');
    expect(page).toHaveTextContent('Seoul Ear Clinic');
    expect(within(page).getByRole('heading', { level: 2 })).toHaveTextContent('Otoscopy report');
    expect(page).toHaveTextContent('PatientP31');
    expect(page).toHaveTextContent('EarRight');
    expect(page).toHaveTextContent(/Captured25 Nov 2026/);
    expect(within(page).getByTestId('photo')).toHaveAttribute('src', 'http://fake/files/original/31');
    // The model's own answer with every probability, its id and version.
    expect(page).toHaveTextContent('Acute otitis media (87.0%)');
    const rows = within(within(page).getByRole('table')).getAllByRole('row');
    expect(rows).toHaveLength(LABELS.length + 1);
    expect(rows[1]).toHaveTextContent('Acute otitis media87.0%');
    expect(page).toHaveTextContent('Model eardrum-mnv2, version 1.2.0');
    // The clinician's review beside it, with name and time.
    expect(page).toHaveTextContent('Changed to: Middle-ear effusion');
    expect(page).toHaveTextContent(/By Dr\. Han, 25 Nov 2026/);
    expect(page).toHaveTextContent('Fluid level behind the drum');
    expect(page).toHaveTextContent('Decision support, not a diagnosis');
  });

  it('prints "Not sure, needs a clinician" as the answer when the model was not sure, every probability below', async () => {
    const api = new FakeApi([
      makeRecord({ id: 35, modelLabel: 'earwax', confidence: 0.34, decision: 'not_sure' }),
    ]);
    setup(api, [35]);
    const page = await screen.findByTestId('report-page');
    const answer = within(page).getByRole('region', { name: 'The model’s answer' });
    expect(answer.querySelector('.report-headline')).toHaveTextContent(/^Not sure, needs a clinician$/);
    expect(answer).toHaveTextContent('Why: no condition likely enough, photo unlike the training photos.');
    const rows = within(within(page).getByRole('table')).getAllByRole('row');
    expect(rows).toHaveLength(LABELS.length + 1);
    expect(rows[1]).toHaveTextContent('Earwax34.0%');
  });

  it('shows the heatmap only when the clinician includes it', async () => {
    const api = new FakeApi([makeRecord({ id: 32 })]);
    setup(api, [32]);
    const page = await screen.findByTestId('report-page');
    expect(within(page).queryByTestId('heatmap-overlay')).toBeNull();
    await userEvent.click(screen.getByRole('checkbox', { name: 'Include the heatmap' }));
    expect(within(page).getByTestId('heatmap-overlay')).toHaveAttribute(
      'src',
      'http://fake/files/overlay/32',
    );
    expect(page).toHaveTextContent('Coloured areas: where the model looked');
  });

  it('prints with the browser’s dialog, and keeps the toolbar off the page', async () => {
    const api = new FakeApi([makeRecord({ id: 33 })]);
    const { printed } = setup(api, [33], 'en', '');
    await screen.findByTestId('report-page');
    const toolbar = screen.getByRole('toolbar', { name: 'Report' });
    expect(toolbar).toHaveClass('no-print');
    expect(toolbar).toHaveTextContent('No clinic name is set');
    expect(screen.getByText('Not yet reviewed by a clinician.')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Print or save as PDF…' }));
    expect(printed).toEqual([1]);
    expect(api.callsTo('report.savePdf')).toEqual([]);
  });

  it('saves a PDF through the desktop app, named after patient and day', async () => {
    const api = new FakeApi([makeRecord({ id: 34, patientId: 'P 34' })]);
    api.transport = 'electron';
    const { printed } = setup(api, [34]);
    await screen.findByTestId('report-page');
    await userEvent.click(screen.getByRole('button', { name: 'Save as PDF…' }));
    await waitFor(() =>
      expect(api.callsTo('report.savePdf')).toEqual([
        { suggestedName: 'eardrum-report-P_34-2026-11-25.pdf' },
      ]),
    );
    expect(await screen.findByRole('status')).toHaveTextContent('Saved as /home/dr/report.pdf');
    expect(printed).toEqual([]);
  });

  it('gives a visit one page per ear, in Korean', async () => {
    const api = new FakeApi([
      makeRecord({ id: 35, patientId: 'K9', ear: 'right', modelLabel: 'normal' }),
      makeRecord({ id: 36, patientId: 'K9', ear: 'left', gate: 'not_eardrum', modelLabel: null }),
    ]);
    setup(api, [35, 36], 'ko', '서울 이비인후과');
    const pages = await screen.findAllByTestId('report-page');
    expect(pages).toHaveLength(2);
    expect(pages[0]).toHaveTextContent('서울 이비인후과');
    expect(pages[0]).toHaveTextContent('고막 검사 보고서');
    expect(pages[0]).toHaveTextContent('우측');
    expect(pages[0]).toHaveTextContent('정상 (87.0%)');
    expect(pages[1]).toHaveTextContent('좌측');
    expect(pages[1]).toHaveTextContent('고막이 보이지 않습니다');
    expect(pages[1]).toHaveTextContent('진단 보조 결과이며 진단이 아닙니다');
    expect(pages[1]).toHaveTextContent('아직 의료진이 검토하지 않았습니다.');
  });
});
