// The video API client the video pages share: the session's token on every call, the environment's base URL.
import { auth, config } from './app.js';
import { VideoApi } from '../upload/api.js';

export const api = new VideoApi({ fetchAPI: (url, init) => auth.fetchAPI(url, init), baseUrl: config.api.baseUrl });
