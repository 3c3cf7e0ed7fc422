// The agent workspace page: log in, the queues (polled), the selected conversation bound live over
// the agent workspace websocket (transcript, SDEs), the composer and the conversation actions.
import { clear, el, errorMessage, readJson, time } from "./dom.js";
import { renderConsumerInfo, renderJourney } from "./consumer.js";
import { LiveSocket } from "./live.js";
import { renderQueues } from "./queues.js";
import { Summary } from "./summary.js";

const KEYS = { bearer: "sdehub.bearer", account: "sdehub.account", agent: "sdehub.agentId" };
const DESK_POLL_MS = 2000;
const JOURNEY_POLL_MS = 5000;
const BINDINGS = ["chatTranscript.lines", "SDE", "authenticatedData", "visitorInfo"];

const $ = (id) => document.getElementById(id);
const state = {
  account: null, bearer: null, agentId: null, user: "",
  desk: { skillIds: [], waiting: [], mine: [] }, deskKey: "",
  skills: new Map(), // skill id -> name, from the catalog
  selected: null, // the selected queue item {conversationId, skillId, ...}
  lines: new Map(), sde: {}, authenticated: {}, visitor: {},
  timers: [], host: null, pending: null, summary: null,
};

// --- toasts -----------------------------------------------------------------------------------

function toast(message, bad = false) {
  const node = el("div", { class: `toast${bad ? " bad" : ""}` }, message);
  $("toasts").append(node);
  setTimeout(() => node.remove(), bad ? 8000 : 4000);
}

// --- HTTP ---------------------------------------------------------------------------------------

async function api(method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { Authorization: `Bearer ${state.bearer}`, ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401 && state.bearer) {
    logout("Your login session has ended: log in again.");
  }
  return response;
}

const base = () => `/api/account/${encodeURIComponent(state.account)}`;
const conversationUrl = (id) => `${base()}/agent-workspace/conversations/${encodeURIComponent(id)}`;

// --- log in / out -----------------------------------------------------------------------------

async function login(event) {
  event.preventDefault();
  const account = $("login-account").value.trim();
  const username = $("login-user").value.trim();
  const password = $("login-password").value;
  const error = $("login-error");
  error.textContent = "";
  if (!account || !username || !password) {
    error.textContent = "Account id, user name and password are all needed.";
    return;
  }
  $("login-submit").disabled = true;
  try {
    const response = await fetch(`/api/account/${encodeURIComponent(account)}/login?v=1.3`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
    const body = await readJson(response);
    if (!response.ok || !body || !body.bearer) {
      error.textContent = errorMessage(body, `Log in failed (${response.status}).`);
      return;
    }
    sessionStorage.setItem(KEYS.bearer, body.bearer);
    sessionStorage.setItem(KEYS.account, account);
    sessionStorage.setItem(KEYS.agent, String(body.config.userId));
    sessionStorage.setItem("sdehub.user", body.config.loginName || username);
    sessionStorage.setItem("sdehub.csrf", body.csrf);
    $("login-password").value = "";
    start();
  } catch (exc) {
    error.textContent = `Log in failed: ${exc.message}`;
  } finally {
    $("login-submit").disabled = false;
  }
}

// Log out: the server ends the session when asked to (it wants the csrf and the Session_id cookie
// of the login); when it has ended it already, only the tab forgets it.
function logout(message, { server = false } = {}) {
  const csrf = sessionStorage.getItem("sdehub.csrf");
  if (server && state.bearer && csrf) {
    fetch(`${base()}/logout`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ csrf }),
    }).catch(() => {});
  }
  for (const key of [...Object.values(KEYS), "sdehub.user", "sdehub.csrf"]) sessionStorage.removeItem(key);
  stop();
  $("desk-view").hidden = true;
  $("login-view").hidden = false;
  $("who").hidden = true;
  $("logout").hidden = true;
  $("login-error").textContent = message || "";
  $("login-account").value = state.account || "";
  state.bearer = null;
  $("login-user").focus();
}

function stop() {
  for (const timer of state.timers) clearInterval(timer);
  state.timers = [];
  live.close();
  if (state.host) {
    state.host.destroy();
    state.host = null;
  }
  state.selected = null;
  state.deskKey = "";
}

function start() {
  state.bearer = sessionStorage.getItem(KEYS.bearer);
  state.account = sessionStorage.getItem(KEYS.account);
  state.agentId = sessionStorage.getItem(KEYS.agent);
  state.user = sessionStorage.getItem("sdehub.user") || state.agentId;
  if (!state.bearer || !state.account) return;
  $("login-view").hidden = true;
  $("desk-view").hidden = false;
  $("who").hidden = false;
  $("who").textContent = `${state.user} · account ${state.account}`;
  $("logout").hidden = false;
  state.summary = new Summary({ api, account: state.account, agentId: state.agentId, toast });
  select(null);
  loadSkills();
  refreshDesk();
  state.timers.push(setInterval(refreshDesk, DESK_POLL_MS));
  state.timers.push(setInterval(refreshJourney, JOURNEY_POLL_MS));
  live.connect();
  mountWidgets();
}

// --- skills and the queue ---------------------------------------------------------------------

async function loadSkills() {
  const response = await api("GET", `${base()}/admin/skills`);
  const items = response.ok ? await readJson(response) : null;
  state.skills = new Map((Array.isArray(items) ? items : []).map((s) => [String(s.id), s.name || String(s.id)]));
  renderTransferOptions();
  state.deskKey = ""; // group names may have changed
  renderDesk();
}

const skillName = (id) => (id === null || id === undefined ? "Unassigned" : state.skills.get(String(id)) || `Skill ${id}`);

function renderTransferOptions() {
  const select = clear($("transfer-skill"));
  const ids = new Set([...state.skills.keys(), ...state.desk.skillIds.map(String)]);
  for (const id of ids) select.append(el("option", { value: id }, `${skillName(id)} (${id})`));
  select.append(el("option", { value: "" }, "Unassigned queue"));
}

async function refreshDesk() {
  if (!state.bearer) return;
  let response;
  try {
    response = await api("GET", `${base()}/agent-workspace/conversations`);
  } catch {
    return; // the server is away: the next poll tries again
  }
  if (!response.ok) return;
  const desk = await readJson(response);
  const known = new Set(state.desk.skillIds);
  state.desk = desk;
  if (desk.skillIds.some((s) => !known.has(s))) renderTransferOptions();
  renderDesk();
  updateActions();
}

function renderDesk() {
  const selectedId = state.selected && state.selected.conversationId;
  const key = JSON.stringify([state.desk.waiting, state.desk.mine, selectedId]);
  if (key === state.deskKey) return;
  state.deskKey = key;
  renderQueues(state.desk, { selectedId, skillName, select, accept });
}

const isMine = (id) => state.desk.mine.some((c) => c.conversationId === id);
const isWaiting = (id) => state.desk.waiting.some((c) => c.conversationId === id);

// --- the selected conversation ----------------------------------------------------------------

function select(item) {
  const before = state.selected;
  if (before && live.ready) {
    for (const key of BINDINGS) live.send({ type: "unbind", conversationId: before.conversationId, key });
  }
  state.selected = item;
  state.lines = new Map();
  state.sde = {};
  state.authenticated = {};
  state.visitor = {};
  state.pending = null;
  $("pending-card").hidden = true;
  clear($("transcript"));
  state.deskKey = "";
  renderDesk();
  updateActions();
  if (!item) {
    $("conv-title").textContent = "No conversation selected";
    $("conv-meta").textContent = "Pick one in the lists on the left.";
    clear($("ci-body")).append(el("p", { class: "empty" }, "Select a conversation."));
    clear($("journey-body")).append(el("p", { class: "empty" }, "Select a conversation."));
    if (state.summary) state.summary.reset();
    if (state.host) state.host.setConversation(null, null);
    return;
  }
  $("conv-title").textContent = `Conversation ${item.conversationId}`;
  renderMeta();
  renderConsumerInfo($("ci-body"), state.sde, state.authenticated);
  if (live.ready) bindSelected();
  refreshJourney();
  state.summary.load(item.conversationId, item.skillId);
  if (state.host) state.host.setConversation(item.conversationId, item.skillId);
}

function renderMeta() {
  const item = state.selected;
  if (!item) return;
  const who = state.visitor.visitorName || `consumer ${item.consumerId.slice(0, 10)}`;
  const status = isMine(item.conversationId) ? "yours" : isWaiting(item.conversationId) ? "waiting" : "not in your lists";
  const typing = state.visitor.visitorTyping ? " · typing…" : "";
  const ended = state.visitor.chattingVisitorState === "ENDED" ? " · ended" : "";
  $("conv-meta").textContent = `${who} · ${skillName(item.skillId)} · ${status}${ended}${typing}`;
}

function updateActions() {
  const item = state.selected;
  const mine = !!item && isMine(item.conversationId);
  const waiting = !!item && isWaiting(item.conversationId);
  $("conv-actions").hidden = !item;
  $("accept-btn").hidden = !waiting;
  for (const id of ["transfer-skill", "transfer-btn", "close-btn"]) $(id).disabled = !mine;
  const composer = $("composer");
  const wasDisabled = composer.disabled;
  composer.disabled = !mine;
  $("send-btn").disabled = !mine;
  composer.placeholder = mine
    ? "Type a message; Enter sends, Shift+Enter adds a line"
    : item ? "Accept the conversation to write to the consumer" : "Select a conversation";
  if (wasDisabled && mine && document.activeElement === document.body) composer.focus();
  renderMeta();
}

async function accept(item) {
  const response = await api("POST", `${conversationUrl(item.conversationId)}/accept`);
  const body = await readJson(response);
  if (!response.ok) {
    toast(errorMessage(body, `Accept failed (${response.status}).`), true);
    refreshDesk();
    return;
  }
  state.desk = body;
  const held = body.mine.find((c) => c.conversationId === item.conversationId) || item;
  toast("Conversation accepted.");
  select(held);
  $("composer").focus();
}

async function transfer() {
  const item = state.selected;
  if (!item) return;
  const raw = $("transfer-skill").value;
  const response = await api("POST", `${conversationUrl(item.conversationId)}/transfer`, {
    body: { skillId: raw === "" ? null : raw },
  });
  const body = await readJson(response);
  if (!response.ok) {
    toast(errorMessage(body, `Transfer failed (${response.status}).`), true);
    return;
  }
  toast(`Transferred to ${skillName(body.toSkillId)}.`);
  await refreshDesk();
  select(null);
}

async function closeConversation() {
  const item = state.selected;
  if (!item) return;
  const response = await api("POST", `${conversationUrl(item.conversationId)}/close`);
  if (!response.ok) {
    toast(errorMessage(await readJson(response), `Close failed (${response.status}).`), true);
    return;
  }
  toast("Conversation closed.");
  await refreshDesk();
  updateActions();
  // Outcomes stay open for a while after the close: show until when.
  if (state.selected === item) await state.summary.refreshOutcomes();
}

async function refreshJourney() {
  const item = state.selected;
  if (!item || !state.bearer) return;
  const response = await api("GET", `${conversationUrl(item.conversationId)}/journey`);
  if (!response.ok || state.selected !== item) return;
  renderJourney($("journey-body"), await readJson(response));
}

// --- transcript and composer ------------------------------------------------------------------

function addLines(lines) {
  const list = $("transcript");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  for (const line of lines) {
    if (!line || state.lines.has(line.id)) continue;
    state.lines.set(line.id, line);
    const source = line.source === "visitor" ? "visitor" : line.source === "agent" ? "agent" : "system";
    const by = source === "visitor" ? line.by || "Consumer"
      : source === "agent" ? (String(line.by) === String(state.agentId) ? "You" : `Agent ${line.by}`) : "System";
    list.append(el("li", { class: `line ${source}`, "data-line": line.id, "data-source": source },
      el("div", { class: "who" }, `${by} · ${time(line.time)}`),
      el("p", { class: "text" }, line.text)));
  }
  if (atBottom) list.scrollTop = list.scrollHeight;
}

async function sendLine(text) {
  const item = state.selected;
  if (!item || !text.trim()) return false;
  const response = await api("POST", `${conversationUrl(item.conversationId)}/messages`, { body: { text } });
  if (!response.ok) {
    toast(errorMessage(await readJson(response), `Sending failed (${response.status}).`), true);
    return false;
  }
  return true;
}

async function submitComposer(event) {
  event.preventDefault();
  const composer = $("composer");
  if (composer.disabled) return;
  const text = composer.value;
  if (!text.trim()) return;
  composer.disabled = true;
  try {
    if (await sendLine(text)) composer.value = "";
  } finally {
    updateActions();
    composer.focus();
  }
}

// The text a structured content card stands for: its text elements, else the JSON itself.
function summarize(json) {
  const texts = [];
  const walk = (node) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === "object") {
      if (typeof node.text === "string") texts.push(node.text);
      for (const [key, value] of Object.entries(node)) if (key !== "text") walk(value);
    }
  };
  walk(json);
  return texts.length ? texts.join(" / ") : JSON.stringify(json);
}

// --- the live socket ----------------------------------------------------------------------------

function bindSelected() {
  const item = state.selected;
  if (!item) return;
  for (const key of BINDINGS) live.send({ type: "bind", conversationId: item.conversationId, key });
}

const live = new LiveSocket(
  () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}${base()}/agent-workspace/ws?token=${encodeURIComponent(state.bearer)}`;
  },
  {
    onReady: bindSelected,
    onPush,
    onRefused: (message) => toast(`Live updates refused: ${message}`, true),
    onEnded: () => logout("Your login session has ended: log in again."),
  },
);

function onPush(message) {
  const item = state.selected;
  if (!item || message.conversationId !== item.conversationId) return;
  const key = message.key;
  if (key === "chatTranscript.lines") {
    addLines(message.newValue || []);
  } else if (key.startsWith("SDE.")) {
    state.sde[key.slice(4)] = message.newValue;
    renderConsumerInfo($("ci-body"), state.sde, state.authenticated);
  } else if (key.startsWith("authenticatedData.")) {
    state.authenticated[key.slice("authenticatedData.".length)] = message.newValue;
    renderConsumerInfo($("ci-body"), state.sde, state.authenticated);
  } else if (key === "visitorInfo") {
    state.visitor = message.newValue || {};
    renderMeta();
  }
}

// --- custom widgets (the widget host script, when present) -------------------------------------

function mountWidgets() {
  const host = window.SdehubWidgetHost;
  const section = $("custom-widgets");
  if (!host) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  const container = $("widgets");
  state.host = host.mount(container, {
    accountId: state.account, bearer: state.bearer, agentId: state.agentId,
    composer: {
      writeChatLine(text) {
        const composer = $("composer");
        composer.value = String(text);
        composer.focus();
      },
      writeStructuredContent(json) {
        state.pending = json;
        $("pending-json").textContent = JSON.stringify(json, null, 2);
        $("pending-card").hidden = false;
      },
    },
    notify(message) { toast(String(message)); },
  });
  container.addEventListener("focusin", () => state.host && state.host.visitorFocus());
  container.addEventListener("focusout", () => state.host && state.host.visitorBlur());
  if (state.selected) state.host.setConversation(state.selected.conversationId, state.selected.skillId);
}

// --- wiring ---------------------------------------------------------------------------------------

$("login-form").addEventListener("submit", login);
$("logout").addEventListener("click", () => logout("", { server: true }));
$("composer-form").addEventListener("submit", submitComposer);
$("composer").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("composer-form").requestSubmit();
  }
});
$("accept-btn").addEventListener("click", () => state.selected && accept(state.selected));
$("transfer-btn").addEventListener("click", transfer);
$("close-btn").addEventListener("click", closeConversation);
$("pending-send").addEventListener("click", async () => {
  if (state.pending && (await sendLine(summarize(state.pending)))) {
    state.pending = null;
    $("pending-card").hidden = true;
  }
});
$("pending-discard").addEventListener("click", () => {
  state.pending = null;
  $("pending-card").hidden = true;
});

if (sessionStorage.getItem(KEYS.bearer)) start();
else {
  $("login-account").value = new URLSearchParams(location.search).get("account") || "";
  ($("login-account").value ? $("login-user") : $("login-account")).focus();
}
