/**
 * The dashboard: one run in detail, or several overlaid for comparison.
 *
 * The host says what to show ('show'), that a shown run changed ('update',
 * or 'append' with only its new points; the zoom stays), or where to look
 * ('focus'). The webview asks the host to
 * open a hint's fix, a log, or to export a report; in a standalone report
 * there is no host and those buttons are not there. The view (zoom,
 * parameter, sort, histogram) is kept with setState together with the runs,
 * and comes back when the same runs are shown again after a reload.
 *
 * Performance marks for tests and the benchmark (marks.ts): SHOW_MARK when
 * a 'show' arrives, FIRST_DRAW_MARK when the timeline has first drawn it.
 */
import type { Finding } from '../../diagnosis/types';
import { hostToDashboardSchema, type DashboardToHost, type Focus, type HostToDashboard, type RunPayload } from '../../protocol/dashboard';
import { StepAxis } from '../charts/x-axis';
import { connectToHost, type HostBridge } from '../host';
import { appendToRun } from './append';
import { Distribution } from './distribution';
import { el, present, section } from './dom';
import { Findings } from './findings';
import { renderHeader, type HeaderActions } from './header';
import { Histograms } from './histograms';
import { FIRST_DRAW_MARK, SHOW_MARK } from './marks';
import { distinctLabels, modelOf, stepSpan, type RunModel } from './model';
import { Parameters } from './parameters';
import { EMPTY_VIEW, parseSavedState, sameRuns, type SavedState, type ViewState } from './state';
import { Timeline } from './timeline';


/** Steps shown around a focused step: a share of the run, at least a few steps. */
const FOCUS_SHARE = 0.04;
const FOCUS_MIN_STEPS = 20;

type Host = HostBridge<HostToDashboard, DashboardToHost>;

export function startDashboard(root: HTMLElement): void {
  const host = connectToHost<HostToDashboard, DashboardToHost>(hostToDashboardSchema);
  const dashboard = new Dashboard(root, host, parseSavedState(host.getState()));
  host.onMessage((message) => dashboard.receive(message));
  host.post({ type: 'ready' });
}

/** The sections for the runs shown; rebuilt on 'show', updated in place on 'update'. */
interface Layout {
  axis: StepAxis;
  header: HTMLElement;
  timeline: Timeline;
  findings: Findings;
  parameters?: Parameters;
  distribution?: Distribution;
  histograms?: Histograms;
  warnings: HTMLElement;
}

class Dashboard {
  private models: RunModel[] = [];
  private view: ViewState = EMPTY_VIEW;
  private focusStep: number | null = null;
  private layout: Layout | undefined;
  private awaitingFirstDraw = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly host: Host,
    /** The state last saved; at start, what was saved before a reload. */
    private saved: SavedState | undefined,
  ) {
    root.classList.add('dashboard');
    this.renderEmpty();
  }

  receive(message: HostToDashboard): void {
    if (message.type === 'show') {
      performance.clearMarks(SHOW_MARK);
      performance.mark(SHOW_MARK);
      this.show(message.runs, message.focus);
    } else if (message.type === 'update') this.update(message.run);
    else if (message.type === 'append') {
      const shown = this.models.find((m) => m.run.key === message.run.key);
      const grown = shown && appendToRun(shown.run, message.run);
      if (grown) this.update(grown);
    } else this.focus(message.focus);
  }

  private show(runs: RunPayload[], focus: Focus | undefined): void {
    const ids = runs.map((r) => (r.stream === undefined ? { path: r.path } : { path: r.path, stream: r.stream }));
    this.view = this.saved && sameRuns(this.saved.runs, ids) && this.saved.view ? this.saved.view : EMPTY_VIEW;
    const labels = distinctLabels(runs);
    this.models = runs.map((run, i) => modelOf(run, labels[i]));
    this.focusStep = null;
    if (this.layout) disposeLayout(this.layout);
    this.layout = undefined;
    if (runs.length === 0) {
      this.renderEmpty();
      this.save();
      return;
    }
    this.awaitingFirstDraw = true;
    this.layout = this.build();
    this.refresh();
    if (this.view.range && this.view.range.length === 2) this.layout.axis.setRange([this.view.range[0], this.view.range[1]]);
    if (focus) this.focus(focus);
    this.save();
  }

  private update(run: RunPayload): void {
    const i = this.models.findIndex((m) => m.run.key === run.key);
    if (i < 0 || !this.layout) return;
    this.models[i] = modelOf(run, this.models[i].label);
    const header = renderHeader(this.models, this.headerActions());
    this.layout.header.replaceWith(header);
    this.layout.header = header;
    this.refresh();
  }

  private focus(focus: Focus): void {
    const model = this.models.find((m) => m.run.key === focus.key);
    if (!model || !this.layout) return;
    if (focus.step !== undefined) this.showSteps(model, focus.step, focus.step);
    if (focus.param !== undefined) this.selectParameter(focus.param);
  }

  /** Zooms every chart to [from, to] with room around it and marks `from`. */
  private showSteps(model: RunModel, from: number, to: number): void {
    if (!this.layout) return;
    const span = stepSpan(model);
    const pad = Math.max(FOCUS_MIN_STEPS / 2, span ? (span[1] - span[0]) * FOCUS_SHARE : 0, (to - from) / 4);
    this.focusStep = from;
    this.layout.timeline.update(this.models, this.focusStep);
    this.layout.axis.setRange([from - pad, to + pad]);
    const reduceMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    this.layout.timeline.root.scrollIntoView({ block: 'start', behavior: reduceMotion ? 'auto' : 'smooth' });
  }

  private selectParameter(name: string | null): void {
    this.view = { ...this.view, param: name };
    this.layout?.parameters?.select(name);
    this.save();
  }

  private readonly findingEvents = {
    focus: (key: string, f: Finding): void => {
      const model = this.models.find((m) => m.run.key === key);
      if (!model) return;
      this.showSteps(model, f.step, f.endStep);
      if (f.layers.length > 0 && this.layout?.parameters) this.selectParameter(f.layers[0]);
    },
    showFix: (key: string, hintId: string, step: number): void => this.host.post({ type: 'openHint', key, hintId, step }),
  };

  private headerActions(): HeaderActions {
    if (this.host.standalone) return {};
    return {
      openLog: (key) => this.host.post({ type: 'openLog', key }),
      exportReport: () => this.host.post({ type: 'exportReport' }),
    };
  }

  private build(): Layout {
    const axis = new StepAxis();
    axis.onRangeChange((range) => {
      this.view = { ...this.view, range: range ? [range[0], range[1]] : null };
      this.save();
    });
    const compare = this.models.length > 1;
    const timeline = new Timeline(axis, () => {
      if (!this.awaitingFirstDraw) return;
      this.awaitingFirstDraw = false;
      performance.clearMarks(FIRST_DRAW_MARK);
      performance.mark(FIRST_DRAW_MARK);
    });
    const findings = new Findings(this.host.standalone ? { focus: this.findingEvents.focus } : this.findingEvents);
    const layout: Layout = { axis, header: renderHeader(this.models, this.headerActions()), timeline, findings, warnings: el('div') };
    if (!compare) {
      layout.parameters = new Parameters(axis, {
        select: (name) => this.selectParameter(name),
        sort: (sort) => {
          this.view = { ...this.view, sort };
          layout.parameters?.setSort(sort);
          this.save();
        },
      });
      layout.distribution = new Distribution();
      layout.histograms = new Histograms(axis, (tag) => {
        this.view = { ...this.view, histogram: tag };
        this.refresh();
        this.save();
      });
    }
    const sections = [layout.header, timeline.root, findings.root, layout.parameters?.root, layout.distribution?.root, layout.histograms?.root, layout.warnings];
    this.root.replaceChildren(...present(sections));
    return layout;
  }

  /** Redraws every section from the models and the view; the zoom stays. */
  private refresh(): void {
    const layout = this.layout;
    if (!layout) return;
    layout.timeline.update(this.models, this.focusStep);
    layout.findings.update(this.models);
    const single = this.models.length === 1 ? this.models[0] : undefined;
    if (single) {
      layout.parameters?.update(single, this.view);
      layout.distribution?.update(single);
      layout.histograms?.update(single.run, this.view.histogram);
    }
    const warnings = renderWarnings(this.models);
    layout.warnings.replaceWith(warnings);
    layout.warnings = warnings;
  }

  private renderEmpty(): void {
    this.root.replaceChildren(
      el(
        'div',
        { className: 'empty-state' },
        el('h1', {}, 'GradLens'),
        el(
          'p',
          {},
          this.host.standalone
            ? 'This report holds no runs.'
            : 'No run to show yet. Choose a run in the GradLens sidebar, or use "GradLens: Inspect Log File" or "GradLens: Open Run Folder".',
        ),
      ),
    );
  }

  private save(): void {
    const state: SavedState = {
      runs: this.models.map((m) => (m.run.stream === undefined ? { path: m.run.path } : { path: m.run.path, stream: m.run.stream })),
      view: this.view,
    };
    this.saved = state;
    this.host.setState(state);
  }
}

function disposeLayout(layout: Layout): void {
  layout.timeline.dispose();
  layout.parameters?.dispose();
  layout.distribution?.dispose();
  layout.histograms?.dispose();
}

function renderWarnings(models: RunModel[]): HTMLElement {
  const lines = models.flatMap((m) => m.run.warnings.map((w) => (models.length > 1 ? `${m.label}: ${w}` : w)));
  if (lines.length === 0) return el('div', { hidden: true });
  const { root, body } = section('warnings', `Read warnings (${lines.length})`);
  body.append(el('details', {}, el('summary', {}, 'Lines the readers could not use'), el('ul', { className: 'warnings' }, ...lines.map((line) => el('li', {}, line)))));
  return root;
}
