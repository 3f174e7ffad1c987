/**
 * What every GradLens webview panel shares: its options (scripts on, files
 * from the extension's bundles and media only, nothing kept while hidden)
 * and its page (the one webview bundle, the page's own style sheet, a fresh
 * nonce each time it is rendered).
 */
import * as vscode from 'vscode';
import { createNonce, PAGE_STYLE_SHEETS, renderPage, type PageOptions } from '../report/page';

export function webviewPanelOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')] };
}

export interface WebviewPanelEvents {
  message(raw: unknown): void;
  /** The panel was hidden, which tears its page down (no retainContextWhenHidden): shown again, it loads anew. */
  hidden(): void;
  disposed(): void;
}

/** Gives a panel its page (loadWebviewPage) and listens to it; dispose what it returns when the panel goes. */
export function connectWebviewPanel(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, page: PageOptions['page'], title: string, events: WebviewPanelEvents): vscode.Disposable[] {
  loadWebviewPage(panel, extensionUri, page, title);
  return [
    panel.webview.onDidReceiveMessage((raw: unknown) => events.message(raw)),
    panel.onDidChangeViewState(() => {
      if (!panel.visible) events.hidden();
    }),
    panel.onDidDispose(() => events.disposed()),
  ];
}

/** Gives a new or revived panel its icon, options and page. */
export function loadWebviewPage(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, page: PageOptions['page'], title: string): void {
  const asset = (...path: string[]): string => panel.webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...path)).toString();
  panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'gradlens.svg');
  panel.webview.options = webviewPanelOptions(extensionUri);
  panel.webview.html = renderPage({
    title,
    nonce: createNonce(),
    cspSource: panel.webview.cspSource,
    script: { src: asset('dist', 'webview.js') },
    styles: [{ href: asset(...PAGE_STYLE_SHEETS[page].split('/')) }],
    page,
  });
}
