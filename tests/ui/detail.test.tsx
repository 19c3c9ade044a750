// @vitest-environment jsdom
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { PatientEdit, RecordDetail } from '../../common/contract.ts';
import { DetailView } from '../../renderer/views/DetailView.tsx';
import { FakeApi, LABELS, makeRecord } from './fake-api.ts';
import { renderWithI18n } from './render.tsx';

function setup(api: FakeApi, id: number, language: 'en' | 'ko' = 'en', reviewerName = 'Dr. Kim') {
  const back: number[] = [];
  const visits: [string, string][] = [];
  const reports: number[][] = [];
  const view = renderWithI18n(
    <DetailView
      api={api}
      id={id}
      card={LABELS}
      reviewerName={reviewerName}
      onBack={() => back.push(1)}
      onVisit={(patientId, day) => visits.push([patientId, day])}
      onReport={(ids) => reports.push(ids)}
    />,
    language,
  );
  return { ...view, back, visits, reports };
}

describe('Detail view', () => {
  it('shows the full image, every probability and the facts', async () => {
    const api = new FakeApi([makeRecord({ id: 11, modelLabel: 'effusion', patientId: 'P11' })]);
    setup(api, 11);
    await screen.findByTestId('detail-view');
    expect(screen.getByRole('img', { name: 'Otoscope image P11_L_20261125.jpg' })).toHaveAttribute(
      'src',
      'http://fake/files/original/11',
    );
    expect(screen.getAllByRole('meter')).toHaveLength(LABELS.length);
    expect(screen.getByRole('heading', { level: 2 })).toHaveTextContent('Middle-ear effusion');
    expect(
      screen.getByText('Eardrum found. This is the model’s reading, for a clinician to check.'),
    ).toBeInTheDocument();
    expect(screen.getByTestId('detail-view')).not.toHaveTextContent('likelihood');
    expect(screen.getByText('Not reviewed yet.')).toBeInTheDocument();
  });

  it('heads a not-sure result "Not sure, needs a clinician" (Korean too) until a clinician settles it', async () => {
    const api = new FakeApi([
      makeRecord({ id: 13, modelLabel: 'earwax', confidence: 0.34, decision: 'not_sure' }),
      makeRecord({
        id: 14,
        modelLabel: 'earwax',
        confidence: 0.34,
        decision: 'not_sure',
        reviewedLabel: 'normal',
      }),
    ]);
    const first = setup(api, 13);
    await screen.findByTestId('detail-view');
    expect(screen.getByRole('heading', { level: 2 })).toHaveTextContent('Not sure, needs a clinician');
    expect(screen.getByTestId('gate-outcome')).toHaveTextContent('Why: no condition likely enough');
    expect(screen.getAllByRole('meter')).toHaveLength(LABELS.length);
    first.unmount();

    const korean = setup(api, 13, 'ko');
    await screen.findByTestId('detail-view');
    expect(screen.getByRole('heading', { level: 2 })).toHaveTextContent('확실하지 않음, 의료진 확인 필요');
    expect(screen.getByTestId('gate-outcome')).toHaveTextContent('학습한 사진과 다른 사진');
    korean.unmount();

    // Reviewed: the clinician's label heads it; the model's answer below still says it was not sure.
    setup(api, 14);
    await screen.findByTestId('detail-view');
    expect(screen.getByRole('heading', { level: 2 })).toHaveTextContent(/^Normal$/);
    expect(screen.getByText(/Model answer: Not sure \(Earwax\?\)/)).toBeInTheDocument();
  });

  it('zooms and pans with buttons and keys, and shows the heatmap on request', async () => {
    const api = new FakeApi([makeRecord({ id: 12 })]);
    setup(api, 12);
    await screen.findByTestId('detail-view');
    const content = screen.getByTestId('zoom-content');
    expect(content.style.transform).toBe('translate(0px, 0px) scale(1)');
    await userEvent.click(screen.getByRole('button', { name: 'Zoom in' }));
    expect(content.style.transform).toBe('translate(0px, 0px) scale(1.25)');
    const viewport = screen.getByRole('group', { name: /Drag or use the arrow keys/ });
    fireEvent.keyDown(viewport, { key: 'ArrowRight' });
    fireEvent.keyDown(viewport, { key: '+' });
    expect(content.style.transform).toBe('translate(-40px, 0px) scale(1.5625)');
    expect(screen.getByText('Zoom 156%')).toBeInTheDocument();
    fireEvent.keyDown(viewport, { key: '0' });
    expect(content.style.transform).toBe('translate(0px, 0px) scale(1)');
    expect(screen.queryByTestId('heatmap-overlay')).toBeNull();
    await userEvent.click(screen.getByRole('checkbox', { name: 'Show where the model looked' }));
    expect(screen.getByTestId('heatmap-overlay')).toHaveAttribute('src', 'http://fake/files/overlay/12');
  });

  it('records an override with a note; the audit trail shows it and the model answer stays visible', async () => {
    const api = new FakeApi([makeRecord({ id: 13, modelLabel: 'aom' })]);
    setup(api, 13);
    await screen.findByTestId('detail-view');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Label' }), 'effusion');
    // Picking a label is choosing to override.
    expect(screen.getByRole('radio', { name: 'Choose another label' })).toBeChecked();
    await userEvent.type(screen.getByRole('textbox', { name: 'Note' }), 'Fluid level behind the drum');
    await userEvent.click(screen.getByRole('button', { name: 'Save review' }));
    const trail = await screen.findByTestId('audit-trail');
    await waitFor(() => expect(trail).toHaveTextContent('Dr. Kim changed the label to Middle-ear effusion'));
    expect(trail).toHaveTextContent('Fluid level behind the drum');
    expect(screen.getByRole('heading', { level: 2 })).toHaveTextContent('Middle-ear effusion');
    expect(screen.getByText(/Model answer: Acute otitis media/)).toBeInTheDocument();
    expect(
      screen.getByText('Label set by a clinician’s review; the model’s answer is shown below.'),
    ).toBeVisible();
    expect(api.callsTo('reviews.add')).toEqual([
      {
        recordId: 13,
        action: 'override',
        label: 'effusion',
        note: 'Fluid level behind the drum',
        reviewer: 'Dr. Kim',
      },
    ]);
    // After saving, nothing is chosen again, and the next "Confirm" names the current result.
    expect(screen.getByRole('button', { name: 'Save review' })).toBeDisabled();
    expect(
      screen.getByRole('radio', { name: 'Confirm the current result (Middle-ear effusion)' }),
    ).not.toBeChecked();
  });

  it('preselects nothing and keeps Save disabled until Confirm or a label is chosen', async () => {
    const api = new FakeApi([makeRecord({ id: 18, modelLabel: 'aom' })]);
    setup(api, 18);
    await screen.findByTestId('detail-view');
    const save = screen.getByRole('button', { name: 'Save review' });
    const confirm = screen.getByRole('radio', { name: 'Confirm model result (Acute otitis media)' });
    const override = screen.getByRole('radio', { name: 'Choose another label' });
    const label = screen.getByRole('combobox', { name: 'Label' });
    expect(confirm).not.toBeChecked();
    expect(override).not.toBeChecked();
    expect(label).toHaveValue('');
    expect(save).toBeDisabled();
    expect(save).toHaveAccessibleDescription('Choose “Confirm” or a label to save a review.');
    // Override without a label: still impossible, and the form says what is missing.
    await userEvent.click(override);
    expect(save).toBeDisabled();
    expect(save).toHaveAccessibleDescription('Pick the label you see.');
    expect(label).toHaveAttribute('aria-invalid', 'true');
    fireEvent.submit(screen.getByTestId('review-form'));
    expect(api.callsTo('reviews.add')).toHaveLength(0);
    await userEvent.click(confirm);
    expect(save).toBeEnabled();
    expect(label).toHaveValue('');
  });

  it('is usable from the keyboard alone', async () => {
    const api = new FakeApi([makeRecord({ id: 19, modelLabel: 'normal' })]);
    setup(api, 19);
    await screen.findByTestId('detail-view');
    const confirm = screen.getByRole('radio', { name: 'Confirm model result (Normal)' });
    confirm.focus();
    await userEvent.keyboard(' ');
    expect(confirm).toBeChecked();
    const reviewer = screen.getByRole('textbox', { name: 'Reviewer' });
    await userEvent.click(reviewer);
    await userEvent.keyboard('{Enter}');
    await waitFor(() =>
      expect(screen.getByTestId('audit-trail')).toHaveTextContent('Dr. Kim confirmed Normal'),
    );
    expect(api.callsTo('reviews.add')).toEqual([
      { recordId: 19, action: 'confirm', note: '', reviewer: 'Dr. Kim' },
    ]);
  });

  it('confirms the model answer, and requires a reviewer name', async () => {
    const api = new FakeApi([makeRecord({ id: 14, modelLabel: 'normal' })]);
    setup(api, 14, 'en', '');
    await screen.findByTestId('detail-view');
    await userEvent.click(screen.getByRole('radio', { name: 'Confirm model result (Normal)' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save review' }));
    expect(screen.getByRole('alert')).toHaveTextContent("Enter the reviewer's name.");
    expect(api.callsTo('reviews.add')).toHaveLength(0);
    await userEvent.type(screen.getByRole('textbox', { name: 'Reviewer' }), 'Dr. Lee');
    await userEvent.click(screen.getByRole('button', { name: 'Save review' }));
    await waitFor(() =>
      expect(screen.getByTestId('audit-trail')).toHaveTextContent('Dr. Lee confirmed Normal'),
    );
  });

  it('offers only "choose a label" when the model found no eardrum, including "no eardrum"', async () => {
    const api = new FakeApi([makeRecord({ id: 15, gate: 'not_eardrum', modelLabel: null })]);
    setup(api, 15);
    await screen.findByTestId('detail-view');
    expect(screen.getByRole('heading', { level: 2 })).toHaveTextContent('No eardrum found');
    expect(screen.queryByRole('radio', { name: /Confirm/ })).toBeNull();
    expect(screen.getByRole('radio', { name: 'Choose another label' })).not.toBeChecked();
    expect(screen.getByRole('button', { name: 'Save review' })).toBeDisabled();
    // There is no Confirm to choose, so the hint asks for a label only.
    expect(screen.getByTestId('review-hint')).toHaveTextContent('Pick the label you see.');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Label' }), 'not_eardrum');
    await userEvent.click(screen.getByRole('button', { name: 'Save review' }));
    await waitFor(() =>
      expect(screen.getByTestId('audit-trail')).toHaveTextContent(
        'Dr. Kim changed the label to No eardrum found',
      ),
    );
  });

  it('goes back with Escape; in a field, Escape first only leaves the field', async () => {
    const api = new FakeApi([makeRecord({ id: 20 })]);
    const { back } = setup(api, 20);
    await screen.findByTestId('detail-view');
    const note = screen.getByRole('textbox', { name: 'Note' });
    await userEvent.click(note);
    await userEvent.type(note, 'half a sentence');
    await userEvent.keyboard('{Escape}');
    expect(note).not.toHaveFocus();
    expect(back).toHaveLength(0);
    await userEvent.keyboard('{Escape}');
    expect(back).toHaveLength(1);
  });

  it('opens the exam’s report and its visit (both ears) from Detail', async () => {
    const api = new FakeApi([
      makeRecord({ id: 23, patientId: 'P23', capturedAt: '2026-11-25T12:00:00.000Z' }),
    ]);
    const { reports, visits } = setup(api, 23);
    await screen.findByTestId('detail-view');
    await userEvent.click(screen.getByRole('button', { name: 'Report…' }));
    await userEvent.click(screen.getByRole('button', { name: 'Visit: both ears' }));
    expect(reports).toEqual([[23]]);
    expect(visits).toHaveLength(1);
    expect(visits[0]![0]).toBe('P23');
    expect(visits[0]![1]).toMatch(/^2026-11-2[56]$/); // the local day of noon UTC
  });

  it('edits patient and ear', async () => {
    const api = new FakeApi([makeRecord({ id: 16, patientId: null, ear: 'unknown' })]);
    setup(api, 16);
    await screen.findByTestId('detail-view');
    const form = screen.getByRole('form', { name: 'Patient and ear' });
    await userEvent.type(within(form).getByRole('textbox', { name: 'Patient ID' }), 'H-2231');
    await userEvent.selectOptions(within(form).getByRole('combobox', { name: 'Ear' }), 'right');
    await userEvent.click(within(form).getByRole('button', { name: 'Save patient and ear' }));
    await waitFor(() => expect(screen.getByTestId('fact-patient')).toHaveTextContent('H-2231'));
    expect(screen.getByTestId('fact-ear')).toHaveTextContent('Right');
    expect(api.callsTo('records.updatePatient')).toEqual([{ id: 16, patientId: 'H-2231', ear: 'right' }]);
  });

  it('says when the exam does not exist, and goes back', async () => {
    const { back } = setup(new FakeApi([]), 999);
    expect(await screen.findByRole('alert')).toHaveTextContent('This exam was not found.');
    await userEvent.click(screen.getByRole('button', { name: /Back to board/ }));
    expect(back).toHaveLength(1);
  });

  it('speaks Korean, including the audit trail', async () => {
    const api = new FakeApi([makeRecord({ id: 17, modelLabel: 'aom' })]);
    setup(api, 17, 'ko');
    await screen.findByTestId('detail-view');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: '소견' }), 'earwax');
    await userEvent.click(screen.getByRole('button', { name: '검토 저장' }));
    await waitFor(() =>
      expect(screen.getByTestId('audit-trail')).toHaveTextContent('Dr. Kim: 소견을 귀지(으)로 변경'),
    );
    expect(screen.getByRole('heading', { name: '검토 이력' })).toBeInTheDocument();
  });

  it('says a review and a patient edit are kept on this workstation while the clinic database is away', async () => {
    const api = new FakeApi([makeRecord({ id: 18, modelLabel: 'aom' })]);
    api.databaseAway = true;
    setup(api, 18);
    await screen.findByTestId('detail-view');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Label' }), 'effusion');
    await userEvent.click(screen.getByRole('button', { name: 'Save review' }));
    expect(
      await screen.findByText(
        /Saved on this workstation: the clinic database cannot be reached\. The review will be written/,
      ),
    ).toBeInTheDocument();
    // Nothing is shown as written: the audit trail still holds only what the server has.
    expect(screen.queryByText(/changed the label to Middle-ear effusion/)).toBeNull();
    const form = screen.getByRole('form', { name: 'Patient and ear' });
    await userEvent.type(within(form).getByRole('textbox', { name: 'Patient ID' }), 'H-9');
    await userEvent.click(within(form).getByRole('button', { name: 'Save patient and ear' }));
    expect(await within(form).findByRole('status')).toHaveTextContent(
      /The change will be written, with this time, when the server is back/,
    );
    expect(api.callsTo('reviews.add')).toHaveLength(1);
  });

  it('says so in Korean too', async () => {
    const api = new FakeApi([makeRecord({ id: 19, modelLabel: 'aom' })]);
    api.databaseAway = true;
    setup(api, 19, 'ko');
    await screen.findByTestId('detail-view');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: '소견' }), 'earwax');
    await userEvent.click(screen.getByRole('button', { name: '검토 저장' }));
    expect(
      await screen.findByText(/이 워크스테이션에 저장했습니다.*검토자 이름으로 기록됩니다/),
    ).toBeInTheDocument();
  });

  /** A record whose detail carries the given changes of patient and ear (as the engine sends them). */
  function withEdits(id: number, patientEdits: PatientEdit[]): FakeApi {
    return new (class extends FakeApi {
      override detail(n: number): RecordDetail | null {
        const d = super.detail(n);
        return d && { ...d, patientEdits };
      }
    })([makeRecord({ id, modelLabel: 'aom', patientId: null })]);
  }
  const at = (hour: number) => `2026-11-30T0${hour}:00:00.000Z`;
  const trail: PatientEdit[] = [
    { field: 'patientId', from: 'P1', to: 'P5', at: at(1), applied: true },
    { field: 'patientId', from: 'P5', to: 'P9', at: at(2), applied: false },
    { field: 'ear', from: 'left', to: 'right', at: at(2), applied: false },
    { field: 'patientId', from: 'P5', to: null, at: at(3), applied: true },
  ];

  it('lists the changes of patient and ear, newest first, saying which one was not applied', async () => {
    setup(withEdits(20, trail), 20);
    const list = await screen.findByTestId('patient-edits');
    expect(within(list).getByRole('heading')).toHaveTextContent('Changes to patient and ear');
    const items = within(list).getAllByRole('listitem');
    expect(items.map((li) => li.querySelector('.audit-what')?.textContent)).toEqual([
      'Patient ID P5 → none',
      'Patient ID P5 → P9 · Ear: Left → Right',
      'Patient ID P1 → P5',
    ]);
    expect(items.map((li) => li.dataset['applied'])).toEqual(['true', 'false', 'true']);
    expect(items[1]).toHaveTextContent(/not applied: a later change had been saved meanwhile/);
    expect(list.querySelectorAll('.audit-note')).toHaveLength(1);
  });

  it('lists them in Korean, and shows no list for a record never changed', async () => {
    const { unmount } = setup(withEdits(21, trail), 21, 'ko');
    const list = await screen.findByTestId('patient-edits');
    expect(within(list).getByRole('heading')).toHaveTextContent('환자 및 좌우 변경 이력');
    const items = within(list).getAllByRole('listitem');
    expect(items[0]).toHaveTextContent('환자 번호 P5 → 없음');
    expect(items[1]).toHaveTextContent('환자 번호 P5 → P9 · 좌우: 좌측 → 우측');
    expect(items[1]).toHaveTextContent(/더 나중의 변경이 저장되어 적용되지 않았습니다/);
    unmount();
    setup(withEdits(22, []), 22);
    await screen.findByTestId('detail-view');
    expect(screen.queryByTestId('patient-edits')).toBeNull();
  });
});
