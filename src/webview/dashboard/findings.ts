/**
 * The findings, worst first, each with its step range, message, parameters
 * and hints. Choosing a finding zooms the charts to its steps; "Show fix" on
 * a hint asks the host to open the training script where the fix belongs
 * (not in a standalone report, which has no host).
 */
import type { Finding } from '../../diagnosis/types';
import { SEVERITY_RANK } from '../../diagnosis/types';
import { noFindingsText } from '../../diagnosis/verdict';
import type { RunModel } from './model';
import { el, section } from './dom';

export interface FindingEvents {
  /** The user chose a finding: show its steps and first parameter. */
  focus(key: string, finding: Finding): void;
  /** "Show fix" on a hint; absent in a standalone report. */
  showFix?(key: string, hintId: string, step: number): void;
}

const KIND_NAMES: Record<Finding['kind'], string> = {
  nonfinite: 'non-finite values',
  explosion: 'explosion',
  spike: 'spike',
  vanishing: 'vanishing gradients',
  clipping: 'clipping',
  dominance: 'dominant parameter',
  divergence: 'divergence',
  'loss-trend': 'loss trend',
};

const MAX_LAYERS_SHOWN = 5;

export class Findings {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;

  constructor(private readonly events: FindingEvents) {
    const { root, body } = section('findings', 'Findings');
    this.root = root;
    this.body = body;
  }

  update(models: RunModel[]): void {
    const compare = models.length > 1;
    const blocks = models.map((m) => {
      const findings = [...m.run.diagnosis.findings].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.step - b.step);
      const list =
        findings.length === 0
          ? el('p', { className: 'no-findings' }, m.run.diagnosis.steps === 0 ? 'No training steps in this log yet.' : noFindingsText(m.run.diagnosis))
          : el('ol', { className: 'findings' }, ...findings.map((f) => this.item(m.run.key, f)));
      return compare ? el('div', { className: 'run-findings' }, el('h3', {}, m.label), list) : list;
    });
    this.body.replaceChildren(...blocks);
  }

  private item(key: string, f: Finding): HTMLElement {
    const steps = f.endStep > f.step ? `steps ${f.step}–${f.endStep}` : `step ${f.step}`;
    const head = el(
      'button',
      { type: 'button', className: 'finding-head', title: 'Show these steps in the charts', onClick: () => this.events.focus(key, f) },
      el('span', { className: `severity severity-${f.severity}` }, f.severity),
      el('span', { className: 'finding-kind' }, KIND_NAMES[f.kind]),
      el('span', { className: 'finding-steps' }, steps),
    );
    const layers =
      f.layers.length > 0
        ? el('p', { className: 'finding-layers' }, `Parameters: ${f.layers.slice(0, MAX_LAYERS_SHOWN).join(', ')}${f.layers.length > MAX_LAYERS_SHOWN ? ` and ${f.layers.length - MAX_LAYERS_SHOWN} more` : ''}`)
        : null;
    const hints =
      f.hints.length > 0
        ? el(
            'ul',
            { className: 'hints' },
            ...f.hints.map((h) =>
              el(
                'li',
                { attrs: { 'data-hint': h.id } },
                el('span', { className: 'hint-text-body' }, h.text),
                this.events.showFix
                  ? el('button', { type: 'button', className: 'hint-fix', onClick: () => this.events.showFix?.(key, h.id, f.step), title: 'Open the training script where this change goes' }, 'Show fix')
                  : null,
              ),
            ),
          )
        : null;
    const item = el('li', { className: `finding finding-${f.severity}` }, head, el('p', { className: 'finding-message' }, f.message), layers, hints);
    item.dataset.kind = f.kind;
    return item;
  }
}
