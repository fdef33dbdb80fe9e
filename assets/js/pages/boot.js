// Placeholder entry module: proves config and the import map reach the app.
import { readConfig } from '../config.js';

const config = readConfig(document);
if (config) document.documentElement.dataset.environment = config.environment;
