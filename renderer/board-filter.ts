import type { Decision, Ear, Gate, RecordFilter } from '../common/contract.ts';
import { utcOffsetMinutes } from './format.ts';

/** The board's filter form as the user sees it; `toRecordFilter` turns it into the contract's filter. */
export interface BoardFilter {
  from: string;
  to: string;
  label: string;
  /** A gate, or `failed` / `pending` for records without a diagnosis. */
  result: '' | Gate | 'failed' | 'pending';
  patient: string;
  ear: '' | Ear;
  reviewed: '' | 'yes' | 'no';
  /** The model's decision: all (''), confident, or not sure. */
  decision: '' | Decision;
  text: string;
}

export const EMPTY_FILTER: BoardFilter = {
  from: '',
  to: '',
  label: '',
  result: '',
  patient: '',
  ear: '',
  reviewed: '',
  decision: '',
  text: '',
};

export function toRecordFilter(f: BoardFilter, offset = utcOffsetMinutes()): RecordFilter {
  const filter: RecordFilter = { utcOffsetMinutes: offset };
  if (f.from) filter.from = f.from;
  if (f.to) filter.to = f.to;
  if (f.label) filter.labels = [f.label];
  if (f.result === 'failed' || f.result === 'pending') filter.statuses = [f.result];
  else if (f.result) filter.gates = [f.result];
  if (f.patient.trim()) filter.patientId = f.patient.trim();
  if (f.ear) filter.ear = f.ear;
  if (f.reviewed) filter.reviewed = f.reviewed === 'yes';
  if (f.decision) filter.decision = f.decision;
  if (f.text.trim()) filter.text = f.text.trim();
  return filter;
}

export function isEmptyFilter(f: BoardFilter): boolean {
  return Object.entries(f).every(([, v]) => v === '');
}
