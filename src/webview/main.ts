/** The webview bundle: the page's body says which app to start. */
import { startDashboard } from './dashboard/app';
import { startPlayground } from './playground/app';
import { startSweep } from './sweep/app';

const root = document.getElementById('app');
if (root) {
  const page = document.body.dataset.page;
  if (page === 'playground') startPlayground(root);
  else if (page === 'sweep') startSweep(root);
  else startDashboard(root);
}
