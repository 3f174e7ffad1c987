/**
 * What every GradLens webview panel shares: its options (scripts on, files
 * from the extension's bundles and media only, nothing kept while hidden)
 * and its page (the one webview bundle, the page's own style sheet, a fresh
 * nonce each time it is rendered).
 */
import * as vscode from 'vscode';
import { createNonce, renderPage, type PageOptions } from '../report/page';

export function webviewPanelOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')] };
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
    styles: [{ href: asset('media', `${page}.css`) }],
    page,
  });
}
