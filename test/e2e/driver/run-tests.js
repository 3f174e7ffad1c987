#!/usr/bin/env node
'use strict';
/*
 * run-tests.js: run a VS Code extension's integration tests (the @vscode/test-electron
 * `extensionTestsPath` module exporting run()) inside a REAL VS Code Node extension host,
 * using code-server (VS Code server + web workbench) and headless Chromium driven by
 * playwright-core. Nothing is downloaded; all traffic stays on 127.0.0.1.
 *
 * How it works (verified against code-server 4.139.1 / VS Code 1.139.1):
 *  - code-server is started with `--vscode-option enable-smoke-test-driver`. A *built* web
 *    workbench only honours the development `payload` URL parameter when that option is on
 *    (BrowserWorkbenchEnvironmentService.resolveExtensionHostDebugEnvironment checks
 *    `!isBuilt || enableSmokeTestDriver`). Server-side --extensionDevelopmentPath /
 *    --extensionTestsPath options are NOT used for this: the browser decides.
 *  - The workbench URL carries ?folder=<ws>&payload=[["extensionDevelopmentPath","vscode-remote://<auth>/abs/ext"],
 *    ["extensionTestsPath","vscode-remote://<auth>/abs/test/index.js"]]. The server scans the dev
 *    extension ("Loading development extension at ..."), the remote Node extension host loads
 *    it, the workbench calls $extensionTestsExecute, and when run() settles it calls
 *    window.codeAutomationExit(code, logs). Extension-host console output (mocha's reporter)
 *    is forwarded to window.codeAutomationLog(level, args). Both are exposed via playwright.
 *  - The Node extension host's own exit code is always 0 here (the workbench stops it);
 *    the test verdict comes ONLY from codeAutomationExit.
 *
 * GradLens additions to the recipe in ../shared/e2e-recipe (vscode-e2e-driver 0.1.0):
 *  - an inspector on 127.0.0.1 whose address the tests get in $GRADLENS_E2E_INSPECTOR: the
 *    suite, running in the extension host, asks it for the text and drawn pixels of elements
 *    in a webview's nested frames or in the workbench, and for screenshots (see inspect()).
 *  - --untrusted: workspace trust on, the folder left in restricted mode.
 *
 * Exit codes: 0 = tests passed, 1 = tests failed (code from the extension host test runner),
 *             2 = harness problem (server/browser failed, timeout, page crashed/closed).
 */
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const util = require('util');

// ---------------------------------------------------------------- CLI
function usage(msg) {
  if (msg) console.error('run-tests: ' + msg + '\n');
  console.error(`Usage: node run-tests.js --extensionDevelopmentPath DIR --extensionTestsPath FILE [options]
  --workspace DIR            folder to open (default: a fresh empty temp dir)
  --code-server BIN          code-server launcher (default: $CODE_SERVER_BIN, $E2E_TOOLS_DIR/node_modules/.bin/code-server,
                             node_modules/.bin/code-server next to this script or in cwd, or code-server on PATH)
  --chromium BIN             Chromium binary (default: $CHROMIUM_BIN or /usr/bin/chromium)
  --timeout SEC              overall timeout for the test run (default 300)
  --artifacts DIR            write server.log, window.log, exthost logs, screenshot.png, timings.json here
  --install-extension X      pre-install an extension (.vsix path or id) into the temp extensions dir (repeatable)
  --vscode-option F[=V]      extra option passed to the VS Code server (repeatable)
  --setting KEY=JSON         extra user setting (repeatable), e.g. --setting editor.tabSize=2
  --untrusted                open the workspace in restricted mode (workspace trust on, folder not trusted)
  --keep                     keep the temp dir (user-data-dir etc.)
  --verbose                  echo browser console + server log + blocked requests
  --no-filter                do not hide known workbench noise lines from the log stream`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { installExtension: [], vscodeOption: [], setting: [], timeout: 300, filter: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const key = a.startsWith('--') && eq > 0 ? a.slice(2, eq) : a.replace(/^--/, '');
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    const val = () => (inline !== undefined ? inline : argv[++i]);
    switch (key) {
      case 'extensionDevelopmentPath': o.devPath = val(); break;
      case 'extensionTestsPath': o.testsPath = val(); break;
      case 'workspace': o.workspace = val(); break;
      case 'code-server': o.codeServer = val(); break;
      case 'chromium': o.chromium = val(); break;
      case 'timeout': o.timeout = Number(val()); break;
      case 'artifacts': o.artifacts = val(); break;
      case 'install-extension': o.installExtension.push(val()); break;
      case 'vscode-option': o.vscodeOption.push(val()); break;
      case 'setting': o.setting.push(val()); break;
      case 'keep': o.keep = true; break;
      case 'untrusted': o.untrusted = true; break;
      case 'verbose': o.verbose = true; break;
      case 'no-filter': o.filter = false; break;
      case 'help': case 'h': usage(); break;
      default: usage('unknown argument ' + a);
    }
  }
  if (!o.devPath || !o.testsPath) usage('--extensionDevelopmentPath and --extensionTestsPath are required');
  o.devPath = path.resolve(o.devPath);
  o.testsPath = path.resolve(o.testsPath);
  if (!fs.existsSync(path.join(o.devPath, 'package.json'))) usage('no package.json in ' + o.devPath);
  if (!fs.existsSync(o.testsPath) && !fs.existsSync(o.testsPath + '.js')) usage('tests path not found: ' + o.testsPath);
  if (!(o.timeout > 0)) usage('bad --timeout');
  return o;
}

function findCodeServer(explicit) {
  const cands = [explicit, process.env.CODE_SERVER_BIN,
    process.env.E2E_TOOLS_DIR && path.join(process.env.E2E_TOOLS_DIR, 'node_modules/.bin/code-server'),
    path.join(__dirname, 'node_modules/.bin/code-server'), path.join(process.cwd(), 'node_modules/.bin/code-server')];
  for (const c of cands) if (c && fs.existsSync(c)) return c;
  const w = spawnSync('sh', ['-c', 'command -v code-server'], { encoding: 'utf8' });
  if (w.status === 0 && w.stdout.trim()) return w.stdout.trim();
  usage('code-server not found (use --code-server or $CODE_SERVER_BIN)');
}

function loadPlaywright() {
  for (const base of [process.env.E2E_TOOLS_DIR, __dirname, process.cwd()].filter(Boolean)) {
    try { return require(require.resolve('playwright-core', { paths: [base] })); } catch (_) { /* next */ }
  }
  usage('playwright-core is not installed (npm i -D playwright-core)');
}

// ---------------------------------------------------------------- helpers
const T0 = Date.now();
const stamp = () => ((Date.now() - T0) / 1000).toFixed(1) + 's';
const info = (...a) => console.log(`[run-tests ${stamp()}]`, ...a);

function httpGet(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.setTimeout(15000, () => req.destroy(new Error('timeout')));
  });
}

// Sum of PSS and RSS (kB) over a set of process trees; used to report peak memory.
function procTreeMemKb(rootPids) {
  let entries;
  try { entries = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)); } catch (_) { return { pss: 0, rss: 0, n: 0 }; }
  const children = new Map();
  for (const pid of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(pid));
    } catch (_) { /* gone */ }
  }
  const seen = new Set();
  const stack = rootPids.filter(Boolean);
  while (stack.length) {
    const p = stack.pop();
    if (seen.has(p)) continue;
    seen.add(p);
    (children.get(p) || []).forEach((c) => stack.push(c));
  }
  const mem = { pss: 0, rss: 0, n: 0 };
  for (const p of seen) {
    try {
      const t = fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
      const pss = /^Pss:\s+(\d+)/m.exec(t);
      const rss = /^Rss:\s+(\d+)/m.exec(t);
      if (pss) mem.pss += Number(pss[1]);
      if (rss) mem.rss += Number(rss[1]);
      mem.n++;
    } catch (_) { /* gone */ }
  }
  return mem;
}

function killGroup(child, signal) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  try { process.kill(-child.pid, signal); } catch (_) { try { child.kill(signal); } catch (_) { /* gone */ } }
}

// Lines from the workbench itself (not from the extension host) that are pure noise in CI output.
const NOISE = [
  /^Ignoring fetching additional builtin extensions from gallery/,
  /^Updating additional builtin extensions cache/,
  /^\[AccountPolicyGate\]/,
  /^\[ChatModelSelection\]/,
  /^\[AgentHost/,
  /^\[reconnection-grace-time\]/,
  /^(Resolving|Resolved) connection token/,
  /^Creating a socket \(/,
  /^\[Service Worker\]/,
  /^Started local extension host with pid/,
  /^Creation of workbench contribution '.*' took \d+ms\.$/,
];

// ---------------------------------------------------------------- inspector
/*
 * POST / with JSON { frame: 'workbench' | <a webview's body data-page>, click?: { selector, text? }
 * (clicks the first match, containing `text` if given, as a person would), text?: {name: css},
 * ink?: {name: css of canvases}, screenshot?: absolute .png path }. Answers { found, text:
 * {name: [textContent of each match]}, ink: {name: pixels drawn (alpha > 0) summed over the
 * matching canvases} }. A webview is two nested iframes deep; its frame is found by the
 * data-page attribute of its body. Loopback only; the tests are its only client.
 */
function queryFrame({ text, ink }) {
  const texts = {};
  for (const [name, css] of Object.entries(text || {})) texts[name] = [...document.querySelectorAll(css)].map((e) => e.textContent.trim());
  const inked = {};
  for (const [name, css] of Object.entries(ink || {})) {
    inked[name] = 0;
    for (const canvas of document.querySelectorAll(css)) {
      if (!canvas.width || !canvas.height) continue;
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked[name]++;
    }
  }
  return { text: texts, ink: inked };
}

async function inspect(page, request) {
  let target;
  if (request.frame === 'workbench') target = page.mainFrame();
  else {
    for (const frame of page.frames()) {
      const pageName = await frame.evaluate(() => document.body && document.body.dataset.page).catch(() => undefined);
      if (pageName === request.frame) { target = frame; break; }
    }
  }
  if (!target) return { found: false, text: {}, ink: {} };
  if (request.click) {
    const matches = target.locator(request.click.selector, request.click.text ? { hasText: request.click.text } : {});
    await matches.first().click({ timeout: 10000 });
  }
  let result;
  try {
    result = await target.evaluate(queryFrame, { text: request.text, ink: request.ink });
  } catch (e) {
    // The webview went away between finding its frame and reading it (hidden, reloaded, or by the click itself,
    // when it opened another editor): nothing to read, the click done; the caller asks again if it waits for the page.
    if (!/Frame was detached|Execution context was destroyed|Target closed/.test(String((e && e.message) || e))) throw e;
    return { found: false, text: {}, ink: {} };
  }
  if (request.screenshot) {
    fs.mkdirSync(path.dirname(request.screenshot), { recursive: true });
    await page.screenshot({ path: request.screenshot });
  }
  return { found: true, ...result };
}

function startInspector(currentPage) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', async () => {
      const reply = (status, value) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(value)); };
      const page = currentPage();
      if (!page) return reply(503, { error: 'the workbench page is not open yet' });
      try { reply(200, await inspect(page, JSON.parse(body))); } catch (e) { reply(500, { error: String(e && e.message || e) }); }
    });
  });
  return new Promise((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', () => resolve(server)); });
}

// ---------------------------------------------------------------- main
async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const codeServer = findCodeServer(opt.codeServer);
  const chromiumBin = opt.chromium || process.env.CHROMIUM_BIN || '/usr/bin/chromium';
  if (!fs.existsSync(chromiumBin)) usage('chromium not found at ' + chromiumBin + ' (apt-get install -y chromium)');
  const { chromium } = loadPlaywright();

  // Short temp root: code-server creates a unix socket inside the user-data-dir (108-byte sun_path limit).
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vsc-e2e-'));
  const udd = path.join(tmp, 'ud');
  const extDir = path.join(tmp, 'ext');
  const ws = opt.workspace ? path.resolve(opt.workspace) : path.join(tmp, 'ws');
  fs.mkdirSync(path.join(udd, 'User'), { recursive: true });
  fs.mkdirSync(extDir, { recursive: true });
  fs.mkdirSync(ws, { recursive: true });
  if (opt.artifacts) fs.mkdirSync(opt.artifacts, { recursive: true });

  // Settings that keep the workbench quiet, offline and deterministic.
  const settings = {
    'telemetry.telemetryLevel': 'off',
    'chat.disableAIFeatures': true,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'update.mode': 'none',
    'workbench.startupEditor': 'none',
    'workbench.enableExperiments': false,
    'workbench.tips.enabled': false,
    'git.enabled': false,
    'git.autofetch': false,
    'github.gitAuthentication': false,
    'npm.fetchOnlinePackageInfo': false,
    'json.schemaDownload.enable': false,
    'security.workspace.trust.enabled': !!opt.untrusted,
    // Restricted mode without the startup dialog that would ask to trust the folder.
    ...(opt.untrusted ? { 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.emptyWindow': false } : {}),
  };
  for (const s of opt.setting) {
    const i = s.indexOf('=');
    if (i < 1) usage('bad --setting ' + s);
    const v = s.slice(i + 1);
    try { settings[s.slice(0, i)] = JSON.parse(v); } catch (_) { settings[s.slice(0, i)] = v; }
  }
  fs.writeFileSync(path.join(udd, 'User', 'settings.json'), JSON.stringify(settings, null, 2));

  const env = {
    ...process.env,
    EXTENSIONS_GALLERY: '{}', // no marketplace (open-vsx) requests from server or browser
    XDG_CONFIG_HOME: path.join(tmp, 'xdg-config'), // code-server would otherwise write ~/.config/code-server/config.yaml
    XDG_DATA_HOME: path.join(tmp, 'xdg-data'),
    NO_PROXY: '127.0.0.1,localhost',
  };
  delete env.PASSWORD; delete env.HASHED_PASSWORD; delete env.VSCODE_IPC_HOOK_CLI;

  const baseArgs = ['--config', path.join(tmp, 'config.yaml'), '--user-data-dir', udd, '--extensions-dir', extDir,
    '--disable-telemetry', '--disable-update-check', ...(opt.untrusted ? [] : ['--disable-workspace-trust']), '--disable-getting-started-override'];

  const timings = {};
  for (const x of opt.installExtension) {
    const t = Date.now();
    info('installing extension', x);
    const r = spawnSync(codeServer, [...baseArgs, '--install-extension', x, '--force'], { env, encoding: 'utf8', timeout: 120000 });
    if (r.status !== 0) {
      console.error(r.stdout, r.stderr);
      throw new Error('install of ' + x + ' failed');
    }
    timings['install:' + path.basename(x)] = Date.now() - t;
  }

  // ---- start code-server (own process group so every child: ext host, file watcher, pty host... dies with it)
  const serverLogPath = path.join(opt.artifacts || tmp, 'server.log');
  const serverLog = fs.createWriteStream(serverLogPath);
  serverLog.on('error', () => {});
  let currentPage;
  const inspector = await startInspector(() => currentPage);
  env.GRADLENS_E2E_INSPECTOR = `http://127.0.0.1:${inspector.address().port}`;
  const vsOpts = ['enable-smoke-test-driver', ...opt.vscodeOption].flatMap((v) => ['--vscode-option', v]);
  const tServer = Date.now();
  const server = spawn(codeServer, [...baseArgs, '--auth', 'none', '--bind-addr', '127.0.0.1:0',
    '--reconnection-grace-time', '5', ...vsOpts, ws], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let browser;
  const peak = { pss: 0, rss: 0, n: 0 };
  // The Node extension host's real exit status is only visible in the server log. A crashed extension
  // host makes the workbench call codeAutomationExit(0) (false pass!), so crashes are tracked here.
  const extHostExits = [];
  let serverTail = '';
  let partialLine = '';
  const scanServerOutput = (chunk) => {
    serverTail = (serverTail + chunk).slice(-65536);
    const lines = (partialLine + chunk).split('\n');
    partialLine = lines.pop(); // keep an incomplete trailing line for the next chunk
    for (const line of lines) {
      const m = /<(\d+)> Extension Host Process exited with code: (\S+), signal: (\S+?)\./.exec(line);
      if (m) extHostExits.push({ pid: Number(m[1]), code: m[2], signal: m[3] });
    }
  };
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    inspector.close();
    try { if (browser) await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 5000))]); } catch (_) { /* ignore */ }
    killGroup(server, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 1500));
    killGroup(server, 'SIGKILL');
    serverLog.end();
    if (!opt.keep) fs.rmSync(tmp, { recursive: true, force: true });
    else info('kept temp dir', tmp);
  };
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup().then(() => process.exit(2)); });

  let exitCode = 2;
  let sampler;
  try {
    const port = await new Promise((resolve, reject) => {
      let buf = '';
      const to = setTimeout(() => reject(new Error('code-server did not start listening within 60s')), 60000);
      const onData = (d) => {
        const s = d.toString();
        serverLog.write(s);
        scanServerOutput(s);
        if (opt.verbose) process.stdout.write('[server] ' + s);
        if (buf === null) return;
        buf += s;
        const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(buf);
        if (m) { buf = null; clearTimeout(to); resolve(Number(m[1])); }
      };
      server.stdout.on('data', onData);
      server.stderr.on('data', onData);
      server.on('exit', (code, sig) => { clearTimeout(to); reject(new Error(`code-server exited early (code ${code}, signal ${sig}); see ${serverLogPath}`)); });
    });
    timings.serverListenMs = Date.now() - tServer;
    info(`code-server listening on 127.0.0.1:${port} after ${timings.serverListenMs} ms`);

    sampler = setInterval(() => {
      // code-server and Chromium are both children of this driver process: sample the whole tree.
      const m = procTreeMemKb([process.pid]);
      peak.pss = Math.max(peak.pss, m.pss); peak.rss = Math.max(peak.rss, m.rss); peak.n = Math.max(peak.n, m.n);
    }, 500);

    // The remote authority the workbench uses (code-server reports "remote"); read it from the page config.
    const base = `http://127.0.0.1:${port}/`;
    const home = await httpGet(base + '?ew=true');
    const m = /id="vscode-workbench-web-configuration"[^>]*data-settings="([^"]*)"/.exec(home.body);
    let authority = `127.0.0.1:${port}`;
    if (m) {
      try {
        const cfg = JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
        if (cfg.remoteAuthority) authority = cfg.remoteAuthority;
      } catch (_) { /* keep default */ }
    }
    const remote = (p) => `vscode-remote://${authority}${p.split(path.sep).map(encodeURIComponent).join('/')}`;
    const payload = [
      ['extensionDevelopmentPath', remote(opt.devPath)],
      ['extensionTestsPath', remote(opt.testsPath)],
      ['skipWelcome', 'true'],
      ['skipReleaseNotes', 'true'],
    ];
    const url = `${base}?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;

    const tBrowser = Date.now();
    browser = await chromium.launch({
      executablePath: chromiumBin,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--disable-default-apps', '--no-default-browser-check',
        // Everything not on loopback goes to a dead local proxy; loopback bypasses proxies implicitly.
        '--proxy-server=http://127.0.0.1:9'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    currentPage = page;
    timings.browserLaunchMs = Date.now() - tBrowser;

    let resolveExit;
    const exited = new Promise((r) => (resolveExit = r));
    let firstTestLogMs;
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      let line;
      try { line = util.format(...(args || [])); } catch (_) { line = (args || []).join(' '); }
      if (opt.filter && NOISE.some((re) => re.test(line))) return;
      if (firstTestLogMs === undefined) firstTestLogMs = Date.now();
      const out = type === 'error' ? process.stderr : process.stdout;
      out.write((type === 'error' || type === 'warn' ? `[${type}] ` : '') + line + '\n');
    });
    await page.exposeFunction('codeAutomationExit', (code, logs) => {
      if (opt.artifacts) {
        for (const l of logs || []) {
          try {
            const dest = path.join(opt.artifacts, 'workbench-logs', l.relativePath);
            fs.mkdirSync(path.dirname(dest), { recursive: true });
            fs.writeFileSync(dest, l.contents);
          } catch (_) { /* ignore */ }
        }
      }
      resolveExit({ code });
    });
    let blocked = 0;
    page.on('requestfailed', (r) => {
      const f = r.failure() && r.failure().errorText;
      if (f && /PROXY|NAME_NOT_RESOLVED/.test(f)) { blocked++; if (opt.verbose) info('blocked non-local request', r.url()); }
    });
    if (opt.verbose) {
      page.on('console', (msg) => console.log('[browser:' + msg.type() + ']', msg.text().slice(0, 2000)));
    }
    page.on('pageerror', (e) => opt.verbose && console.log('[pageerror]', e.message));
    page.on('crash', () => resolveExit({ harness: 'page crashed' }));
    page.on('close', () => resolveExit({ harness: 'page closed before tests finished' }));

    const tPage = Date.now();
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60000 });
    const workbenchReady = page.waitForSelector('.monaco-workbench', { timeout: 120000 })
      .then(() => { timings.workbenchReadyMs = Date.now() - tPage; info(`workbench ready after ${timings.workbenchReadyMs} ms (server start -> ready ${Date.now() - tServer} ms)`); })
      .catch(() => {});
    let timer;
    const result = await Promise.race([
      exited,
      new Promise((r) => (timer = setTimeout(() => r({ harness: `timed out after ${opt.timeout}s waiting for codeAutomationExit` }), opt.timeout * 1000))),
    ]);
    clearTimeout(timer);
    await workbenchReady;
    timings.pageToExitMs = Date.now() - tPage;
    if (firstTestLogMs) timings.firstLogToExitMs = Date.now() - firstTestLogMs;
    await new Promise((r) => setTimeout(r, 1000)); // let trailing log calls and server output drain
    if (opt.artifacts || result.harness) {
      const shot = path.join(opt.artifacts || tmp, 'screenshot.png');
      await page.screenshot({ path: shot }).then(() => info('screenshot', shot)).catch(() => {});
    }
    if (blocked) info(`${blocked} non-local browser request(s) were blocked`);
    if (result.harness) {
      if (!opt.artifacts) opt.keep = true; // keep the temp dir so the logs can be inspected
      console.error(`[run-tests] HARNESS ERROR: ${result.harness}. Server log: ${serverLogPath}`);
      console.error('[run-tests] last server output:\n' + serverTail.split('\n').slice(-15).join('\n'));
      exitCode = 2;
    } else {
      exitCode = result.code === 0 ? 0 : 1;
      info(`extension host test runner exit code: ${result.code}`);
      const crashed = extHostExits.filter((e) => e.code !== '0' || e.signal !== 'null');
      if (crashed.length) {
        for (const c of crashed) console.error(`[run-tests] extension host pid ${c.pid} crashed (exit code ${c.code}, signal ${c.signal})`);
        console.error('[run-tests] FAIL: the extension host crashed; the reported exit code is not trustworthy.');
        exitCode = 1;
      }
    }
  } finally {
    if (sampler) clearInterval(sampler);
    timings.peakPssMB = Math.round(peak.pss / 1024);
    timings.peakRssSumMB = Math.round(peak.rss / 1024);
    timings.peakProcesses = peak.n;
    timings.totalMs = Date.now() - T0;
    if (opt.artifacts) {
      fs.writeFileSync(path.join(opt.artifacts, 'timings.json'), JSON.stringify(timings, null, 2));
      const logsDir = path.join(udd, 'logs');
      if (fs.existsSync(logsDir)) fs.cpSync(logsDir, path.join(opt.artifacts, 'server-logs'), { recursive: true });
    }
    info('timings', JSON.stringify(timings));
    await cleanup();
  }
  return exitCode;
}

main().then((code) => process.exit(code), (err) => {
  console.error('[run-tests] HARNESS ERROR:', err && err.stack || err);
  process.exit(2);
});
