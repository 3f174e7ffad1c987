// The browser side of the webview harness (harness.ts), installed with
// addInitScript before the page's own scripts. Plain JavaScript: it runs in
// Chromium as written, and keeps the DOM out of the Node programs' types.
// Everything is on window.gradlensHarness.
(() => {
  const record = { posted: [], state: undefined, alerts: [] };
  /** Text handed over in pieces (a benchmark's hundreds of megabytes), waiting to be posted. */
  let staged = [];

  window.alert = (text) => {
    record.alerts.push(String(text));
  };

  window.gradlensHarness = {
    record,

    /**
     * The stand-in for VS Code's webview API. Like VS Code, it hands back the
     * state saved before a reload (the URL's `vscodeState`) and can be acquired once.
     */
    installVsCodeApi() {
      const saved = new URLSearchParams(location.search).get('vscodeState');
      record.state = saved === null ? undefined : JSON.parse(saved);
      let acquired = false;
      window.acquireVsCodeApi = () => {
        if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
        acquired = true;
        return {
          postMessage: (message) => {
            record.posted.push(typeof message === 'string' ? message : JSON.stringify(message));
          },
          getState: () => record.state,
          setState: (state) => {
            record.state = state;
            return state;
          },
        };
      };
    },

    /** A theme as VS Code sets it: the body's class and theme kind, the variables on <html>. Returns when it was set (performance.now()). */
    applyTheme(bodyClass, variables) {
      const body = document.body;
      body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast', 'vscode-high-contrast-light');
      body.classList.add(bodyClass);
      body.dataset.vscodeThemeKind = bodyClass;
      const style = document.documentElement.style;
      for (let i = style.length - 1; i >= 0; i--) if (style[i].startsWith('--vscode-')) style.removeProperty(style[i]);
      for (const [name, value] of Object.entries(variables)) style.setProperty(name, value);
      return performance.now();
    },

    /**
     * Reads back the first canvas matching `selector` (within the top `rows`
     * pixel rows when given): pixels differing from its top-left pixel (the
     * background), and pixels within `tolerance` of each '#rrggbb' colour.
     */
    canvasPixels(selector, colors, tolerance, rows) {
      const canvas = document.querySelector(selector);
      if (!(canvas instanceof HTMLCanvasElement)) throw new Error(`no canvas ${selector}`);
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, rows ?? canvas.height);
      const targets = colors.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
      const near = targets.map(() => 0);
      const background = [data[0], data[1], data[2]];
      let drawn = 0;
      for (let p = 0; p < data.length; p += 4) {
        if (data[p] !== background[0] || data[p + 1] !== background[1] || data[p + 2] !== background[2]) drawn++;
        for (let t = 0; t < targets.length; t++) {
          const [r, g, b] = targets[t];
          if (Math.abs(data[p] - r) + Math.abs(data[p + 1] - g) + Math.abs(data[p + 2] - b) <= tolerance) near[t]++;
        }
      }
      return { drawn, near, background };
    },

    /** Every drawn pixel of each canvas matching `selector`, as PNG data URLs: two drawings compare equal only when identical. */
    canvasImages(selector) {
      return Array.from(document.querySelectorAll(selector), (canvas) => (canvas instanceof HTMLCanvasElement ? canvas.toDataURL() : ''));
    },

    /** The text of every cell, row by row, of the table rows matching `selector`. */
    tableText(selector) {
      return Array.from(document.querySelectorAll(selector), (row) => Array.from(row.children, (cell) => cell.textContent ?? ''));
    },

    computedStyle(selector, property) {
      const element = document.querySelector(selector);
      return element ? getComputedStyle(element).getPropertyValue(property) : '';
    },

    /** Clicks the first `selector` whose text starts with `text`; returns the milliseconds until what it changed is laid out. */
    timedClick(selector, text) {
      const target = Array.from(document.querySelectorAll(selector)).find((element) => (element.textContent ?? '').startsWith(text));
      if (!target) throw new Error(`no ${selector} reads ${text}`);
      const started = performance.now();
      target.click();
      void document.body.offsetHeight;
      return performance.now() - started;
    },

    /** Milliseconds from `since` until the latest `name` entry ended and the page laid out what it did. */
    laidOutSince(name, since) {
      const entry = performance.getEntriesByName(name).at(-1);
      void document.body.offsetHeight;
      return Math.max(performance.now(), entry ? entry.startTime + entry.duration : 0) - since;
    },

    /** Scrolls the first `selector` to its end (or its top) and resolves once two frames have been drawn after it. */
    scrollToEdge(selector, end) {
      const element = document.querySelector(selector);
      if (!element) throw new Error(`no ${selector}`);
      element.scrollTop = end ? element.scrollHeight : 0;
      element.dispatchEvent(new Event('scroll'));
      return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(element.scrollTop))));
    },

    droppedMessages() {
      return Number(document.body.dataset.droppedMessages ?? 0);
    },

    /** Whether a performance entry of this name began at or after `since` (performance.now() time). */
    hasEntry(name, since) {
      return performance.getEntriesByName(name).some((entry) => entry.startTime >= since);
    },

    deliver(text) {
      window.postMessage(text, '*');
    },

    stage(piece) {
      staged.push(piece);
    },

    /** Posts the staged text as one message; returns performance.now() just before. */
    deliverStaged() {
      const text = staged.join('');
      staged = [];
      const start = performance.now();
      window.postMessage(text, '*');
      return start;
    },

    /** Dispatches a wheel event at a horizontal share of the element's width; returns performance.now() just before. */
    wheel(selector, share, deltaY) {
      const element = document.querySelector(selector);
      const box = element.getBoundingClientRect();
      const init = { deltaY, clientX: box.left + box.width * share, clientY: box.top + box.height / 2, bubbles: true, cancelable: true };
      const start = performance.now();
      element.dispatchEvent(new WheelEvent('wheel', init));
      return start;
    },

    /** The newest performance entry of this name as [startTime, duration], or null. */
    latestEntry(name) {
      const entries = performance.getEntriesByName(name);
      const last = entries[entries.length - 1];
      return last ? [last.startTime, last.duration] : null;
    },
  };
})();
