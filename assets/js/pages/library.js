// The library: the signed-in user's videos from the video API, polled while the page is open.
import { auth, t, config, ready } from './app.js';
import { setNotice } from '../ui/form.js';

const POLL_MS = 15_000;
const list = document.getElementById('videos');
const notice = document.getElementById('notice');

function render(videos) {
  if (videos.length === 0) {
    const empty = document.createElement('li');
    empty.className = 'empty';
    empty.textContent = t('library.empty');
    list.replaceChildren(empty);
    return;
  }
  list.replaceChildren(...videos.map((video) => {
    const item = document.createElement('li');
    const title = document.createElement('span');
    title.className = 'title';
    title.textContent = video.title;
    const status = document.createElement('span');
    status.className = 'status';
    status.dataset.status = video.status;
    status.textContent = video.status;
    item.append(title, status);
    return item;
  }));
}

async function load() {
  try {
    const response = await auth.fetchAPI(`${config.api.baseUrl}/videos`);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = await response.json();
    render(body.videos ?? body.items ?? []);
    setNotice(notice, '');
  } catch {
    setNotice(notice, t('library.loadFailed'), 'warning');
  }
}

if (await ready) {
  await load();
  setInterval(() => { if (!document.hidden) load(); }, POLL_MS);
}
