/** The webview bundle: the page's body says which app to start. */
import { startDashboard } from './dashboard/app';
import { startPlayground } from './playground/app';

const root = document.getElementById('app');
if (root) {
  if (document.body.dataset.page === 'playground') startPlayground(root);
  else startDashboard(root);
}
