// @vitest-environment jsdom
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { LearnFromReviews } from '../../renderer/components/LearnFromReviews.tsx';
import { ADAPTED_MODEL, CARD, FakeApi, SHIPPED_MODEL } from './fake-api.ts';
import { renderWithI18n } from './render.tsx';

function setup(api: FakeApi, language: 'en' | 'ko' = 'en') {
  return renderWithI18n(<LearnFromReviews api={api} labels={CARD.labels} />, language);
}

describe('Learn from reviewed photos', () => {
  it('shows reviewed photos per label, marks labels with too few, and what can be used', async () => {
    const api = new FakeApi();
    setup(api);
    const counts = await screen.findByTestId('learn-counts');
    const row = (name: string) => within(counts).getByRole('rowheader', { name }).closest('tr')!;
    expect(row('Normal')).toHaveTextContent('12');
    expect(row('Acute otitis media')).toHaveTextContent('2 (not enough yet)');
    expect(row('Earwax')).toHaveTextContent('5');
    expect(screen.getByText('17 reviewed photos can be used.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Learn from 17 reviewed photos' })).toBeEnabled();
  });

  it('cannot start with too few photos', async () => {
    const api = new FakeApi();
    api.learning = { ...api.learning, usable: 2, canStart: false };
    setup(api);
    expect(await screen.findByRole('button', { name: 'Learn from 2 reviewed photos' })).toBeDisabled();
  });

  it('starts, shows progress from events, then compares before/after and uses the new model', async () => {
    const api = new FakeApi();
    setup(api);
    await userEvent.click(await screen.findByRole('button', { name: 'Learn from 17 reviewed photos' }));
    expect(api.callsTo('learn.start')).toHaveLength(1);
    const progress = await screen.findByRole('progressbar', { name: 'Learning progress' });
    act(() =>
      api.emit({
        type: 'learn.progress',
        job: { ...api.learning.job, phase: 'cross-validation', done: 40, total: 100 },
      }),
    );
    expect(progress).toHaveAttribute('value', '40');
    expect(screen.getByText(/Learning: checking on held-out photos 40%/)).toBeInTheDocument();
    expect(screen.getByText('New photos are still diagnosed meanwhile.')).toBeInTheDocument();

    const ready = {
      ...api.learning.job,
      state: 'ready' as const,
      done: 100,
      total: 100,
      candidate: ADAPTED_MODEL,
    };
    api.learning = { ...api.learning, job: ready };
    act(() => api.emit({ type: 'learn.progress', job: ready }));
    const table = await screen.findByTestId('learn-comparison');
    const cells = (name: string) =>
      within(within(table).getByRole('rowheader', { name }).closest('tr')!)
        .getAllByRole('cell')
        .map((c) => c.textContent);
    expect(cells('All')).toEqual(['9 / 17 right', '3', '15 / 17 right', '0']);
    expect(cells('Earwax')).toEqual(['1 / 5 right', '1', '4 / 5 right', '0']);
    await userEvent.click(screen.getByRole('button', { name: 'Use this model' }));
    expect(api.callsTo('learn.decide')).toEqual([{ use: true }]);
    expect(
      await screen.findByText(
        `Now using ${ADAPTED_MODEL.id}. Earlier results keep the model that made them.`,
      ),
    ).toBeInTheDocument();
    const models = screen.getByTestId('learn-models');
    expect(within(models).getByText('In use').closest('li')).toHaveTextContent(ADAPTED_MODEL.id);
  });

  it('keeps the current model when asked, and goes back to the shipped model', async () => {
    const api = new FakeApi();
    api.learning = {
      ...api.learning,
      models: [
        { ...SHIPPED_MODEL, active: false },
        { ...ADAPTED_MODEL, active: true },
      ],
      activeModelId: ADAPTED_MODEL.id,
      job: { ...api.learning.job, state: 'ready', candidate: { ...ADAPTED_MODEL, id: 'newer' } },
    };
    setup(api);
    await userEvent.click(await screen.findByRole('button', { name: 'Keep the current one' }));
    expect(api.callsTo('learn.decide')).toEqual([{ use: false }]);
    await userEvent.click(await screen.findByRole('button', { name: 'Go back to the shipped model' }));
    expect(api.callsTo('models.use')).toEqual([{ id: CARD.id }]);
    await waitFor(() =>
      expect(within(screen.getByTestId('learn-models')).getByText('In use').closest('li')).toHaveTextContent(
        'Shipped model',
      ),
    );
  });

  it('shows why learning failed, one line per problem', async () => {
    const api = new FakeApi();
    api.learning = {
      ...api.learning,
      job: {
        ...api.learning.job,
        state: 'failed',
        error: {
          code: 'invalid_args',
          message: 'record 4 (a.jpg): unreadable photo\nrecord 9 (b.jpg): unreadable photo',
        },
      },
    };
    setup(api);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Learning failed:');
    expect(alert).toHaveTextContent('record 9 (b.jpg): unreadable photo');
    await userEvent.click(within(alert).getByRole('button', { name: 'Dismiss' }));
    expect(api.callsTo('learn.cancel')).toHaveLength(1);
  });

  it('reads in Korean', async () => {
    const api = new FakeApi();
    setup(api, 'ko');
    expect(await screen.findByRole('button', { name: '검토한 사진 17장으로 학습' })).toBeInTheDocument();
    expect(screen.getByText('검토한 사진 17장을 사용할 수 있습니다.')).toBeInTheDocument();
    expect(
      within(screen.getByTestId('learn-counts')).getByRole('row', { name: /급성 중이염/ }),
    ).toHaveTextContent('2 (아직 부족함)');
  });
});
