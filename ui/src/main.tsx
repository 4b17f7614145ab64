// First: a usable navigator.language before any library formats with it (see the module).
import './lib/locale-guard';
import { render } from 'preact';
import { App } from './app';
import './styles.css';

const root = document.getElementById('app');
if (!root) throw new Error('index.html has no #app element');
render(<App />, root);
