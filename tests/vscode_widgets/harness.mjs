// Test harness: run one cell on a live kernel and show its output the way the VS Code Jupyter
// extension's notebook webview does, with the extension's own ipywidgets 8 widget manager
// (@vscode/jupyter-ipywidgets8, the `dist/ipywidgets.js` the extension ships).
//
// What is VS Code's and what is ours:
//  - the WidgetManager class, its CSS and the widget models/views: VS Code's bundle, unchanged;
//  - its construction and use follow microsoft/vscode-jupyter
//    src/webviews/webview-side/ipywidgets/kernel/{index,manager}.ts and renderer/index.ts,
//    re-written here (none of that code is copied);
//  - the kernel: VS Code's webview gives the manager a @jupyterlab/services KernelConnection
//    (handleComms: true) whose socket is tunnelled to the extension host by postMessage. Here the
//    same class talks to a real Jupyter server over a real WebSocket instead.
//
// The page reads ?server=<Jupyter base URL>&code=<cell source> and exposes its state on
// window.harness for the Python test.

import '@jupyter-widgets/controls/css/labvariables.css';
import './harness.css';
import { KernelAPI, KernelMessage, ServerConnection } from '@jupyterlab/services';
import { KernelConnection } from '@jupyterlab/services/lib/kernel/default';
import { activate } from '@vscode/jupyter-ipywidgets8';

const WIDGET_MIMETYPE = 'application/vnd.jupyter.widget-view+json';

const harness = {
  status: 'starting',
  error: null,
  log: [], // the widget manager's logger
  loadSuccess: [], // scriptLoader.successHandler calls: widget classes the bundle resolved
  loadErrors: [], // scriptLoader.errorHandler calls
  scriptRequests: [], // scriptLoader.loadWidgetScript calls (third-party widget modules)
  unhandledIOPub: [],
  outputs: [], // one entry per display_data / execute_result: mime order and the pick
  rendered: 0,
};
window.harness = harness;

// The order in which VS Code offers an output's MIME types to renderers, in two steps.
// 1. The Jupyter extension turns a kernel output into a NotebookCellOutput whose items are
//    sorted by its own list (vendor types first, text/html before text/plain).
const EXTENSION_ORDER = [
  'application/vnd.*', 'application/vdom.*', 'application/geo+json',
  'application/x-nteract-model-debug+json', 'text/html', 'application/javascript', 'image/gif',
  'text/latex', 'text/markdown', 'image/png', 'image/svg+xml', 'image/jpeg', 'application/json',
  'text/plain',
];
function extensionOrder(mimes) {
  const rank = (mime) => {
    const i = EXTENSION_ORDER.findIndex((p) =>
      p.endsWith('.*') ? mime.startsWith(p.slice(0, -2)) : mime.startsWith(p));
    return i === -1 ? 100 : i;
  };
  return [...mimes].sort((a, b) => rank(a) - rank(b)); // stable, like Array.prototype.sort
}
// 2. VS Code core (MimeTypeDisplayOrder) puts the user's `notebook.displayOrder` first (empty by
//    default), then sorts the rest by NOTEBOOK_DISPLAY_ORDER.indexOf: a type not in that list
//    gets -1 and so comes before all of it, in the order step 1 gave.
const CORE_DEFAULT_ORDER = [
  'application/json', 'application/javascript', 'text/html', 'image/svg+xml', 'text/latex',
  'text/markdown', 'image/png', 'image/jpeg', 'text/plain',
];
function coreOrder(mimes) {
  return [...mimes].sort((a, b) => CORE_DEFAULT_ORDER.indexOf(a) - CORE_DEFAULT_ORDER.indexOf(b));
}

function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

async function main() {
  const params = new URLSearchParams(window.location.search);
  const baseUrl = params.get('server');
  const code = params.get('code');

  // VS Code registers dist/ipywidgets.js as a notebook preload and calls its activate(); the
  // kernel script then loads the widget version the kernel reported (8 for ipywidgets 8).
  activate();
  window.vscIPyWidgets8.load();
  const JupyterLabWidgetManager = window.vscIPyWidgets.WidgetManager;

  const serverSettings = ServerConnection.makeSettings({
    baseUrl,
    wsUrl: baseUrl.replace(/^http/, 'ws'),
    token: '',
    appendToken: false,
  });
  const model = await KernelAPI.startNew({ name: 'python3' }, serverSettings);
  const kernel = new KernelConnection({ serverSettings, model, handleComms: true });
  window.harnessKernel = kernel;

  // The script loader VS Code's ScriptManager hands the manager. Our quiz uses only the
  // built-in controls, which the bundle resolves itself; a request for any other module is
  // recorded (and fails the test), and nothing is ever fetched from a CDN.
  const scriptLoader = {
    widgetsRegisteredInRequireJs: new Set(),
    errorHandler: (className, moduleName, moduleVersion, error) =>
      harness.loadErrors.push({ className, moduleName, moduleVersion, error: String(error) }),
    loadWidgetScript: async (moduleName, moduleVersion) => {
      harness.scriptRequests.push({ moduleName, moduleVersion });
    },
    successHandler: (className, moduleName, moduleVersion) =>
      harness.loadSuccess.push({ className, moduleName, moduleVersion }),
  };
  const logger = (message) => harness.log.push(String(message));

  // VS Code's kernel script constructs the manager with no container (`undefined` for `el`):
  // every view is attached to the output element it is rendered into. No widget state is
  // passed either, since the widgets come from a live kernel, not from the notebook file.
  // (VS Code also registers mime renderers for outputs nested in an Output widget; the quiz
  // has none.)
  const root = document.getElementById('notebook');
  const manager = new JupyterLabWidgetManager(kernel, undefined, scriptLoader, logger, undefined);

  // As VS Code's webview WidgetManager: a widget-view output is rendered only once the model
  // it names exists, which the display_data listener below tells it.
  const modelsToDisplay = new Map();
  const waitFor = (modelId) => {
    if (!modelsToDisplay.has(modelId)) modelsToDisplay.set(modelId, deferred());
    return modelsToDisplay.get(modelId);
  };
  kernel.iopubMessage.connect(async (_sender, msg) => {
    if (!KernelMessage.isDisplayDataMsg(msg) && !KernelMessage.isExecuteResultMsg(msg)) return;
    const data = msg.content.data && msg.content.data[WIDGET_MIMETYPE];
    if (!data) return;
    const wait = waitFor(data.model_id);
    const modelPromise = manager.get_model(data.model_id);
    if (!modelPromise) return wait.resolve();
    try {
      await modelPromise;
      wait.resolve();
    } catch (err) {
      wait.reject(err);
    }
  });
  manager.onUnhandledIOPubMessage.connect((_m, msg) => harness.unhandledIOPub.push(msg.header.msg_type));

  async function renderWidget(data, ele) {
    if (data.version_major !== 2) throw new Error(`widget data version ${data.version_major}`);
    await waitFor(data.model_id).promise;
    const widgetModel = await manager.get_model(data.model_id);
    const view = await manager.create_view(widgetModel, { el: ele });
    return manager.display_view(data, view, { node: ele });
  }

  // What VS Code's kernel script does after a widget renders: buttons and button-like
  // elements without a tabindex get tabindex=0 and an Enter/Space handler that clicks them.
  function keyboardPass(container) {
    setTimeout(() => {
      const selectors = ['button:not([tabindex])', 'a[href]:not([tabindex])',
        '[role="button"]:not([tabindex])', '[onclick]:not([tabindex])',
        '.jupyter-button:not([tabindex])', '.widget-button:not([tabindex])',
        '.toolbar button', '.toolbar-button'];
      for (const el of container.querySelectorAll(selectors.join(','))) {
        if (!el.hasAttribute('tabindex') || el.getAttribute('tabindex') === '-1') {
          el.setAttribute('tabindex', '0');
        }
        if (!el.hasAttribute('role') && el.tagName !== 'BUTTON' && el.tagName !== 'A') {
          el.setAttribute('role', 'button');
        }
        if (!el.hasAttribute('data-keyboard-listener')) {
          el.setAttribute('data-keyboard-listener', 'true');
          el.addEventListener('keydown', (event) => {
            if (event.key === 'Enter' || event.key === ' ') {
              event.preventDefault();
              el.click();
            }
          });
        }
      }
      harness.keyboardPassDone = true;
    }, 500);
  }

  // One output item, as the notebook's output container gets it and as the extension's
  // widget renderer and kernel script turn it into a widget.
  async function showOutput(bundle) {
    const order = coreOrder(extensionOrder(Object.keys(bundle)));
    const chosen = order[0];
    const record = { order, chosen, rendered: false };
    harness.outputs.push(record);
    const container = document.createElement('div');
    container.className = 'output-item';
    container.dataset.mime = chosen;
    root.appendChild(container);
    if (chosen !== WIDGET_MIMETYPE) {
      // Not what this harness is for: leave the text so a failure shows what came instead.
      container.textContent = String(bundle['text/plain'] ?? chosen);
      return;
    }
    container.className += ' cell-output-ipywidget-background';
    const ele = document.createElement('div');
    ele.className = 'cell-output-ipywidget-background';
    ele.setAttribute('tabindex', '0');
    ele.setAttribute('role', 'region');
    ele.setAttribute('aria-label', 'Interactive widget output');
    const inner = document.createElement('div');
    inner.className = 'cell-output cell-output';
    container.appendChild(ele);
    ele.appendChild(inner);
    await renderWidget(bundle[WIDGET_MIMETYPE], ele);
    keyboardPass(ele);
    record.rendered = true;
    harness.rendered += 1;
  }

  harness.status = 'executing';
  const rendering = [];
  const future = kernel.requestExecute({ code, store_history: true });
  future.onIOPub = (msg) => {
    if (KernelMessage.isDisplayDataMsg(msg) || KernelMessage.isExecuteResultMsg(msg)) {
      rendering.push(showOutput(msg.content.data));
    } else if (KernelMessage.isErrorMsg(msg)) {
      harness.error = `${msg.content.ename}: ${msg.content.evalue}`;
    }
  };
  const reply = await future.done;
  await Promise.all(rendering);
  if (reply.content.status !== 'ok' && !harness.error) harness.error = reply.content.status;
  harness.status = harness.error ? 'error' : 'done';
}

main().catch((err) => {
  harness.error = String(err && err.stack ? err.stack : err);
  harness.status = 'error';
});
