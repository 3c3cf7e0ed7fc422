// Small DOM and HTTP helpers shared by the workspace modules. Text always goes in as text nodes:
// nothing a consumer, a widget or an API sends is ever parsed as HTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "value") continue; // set last, once a select has its options
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  if (attrs.value !== undefined && attrs.value !== null) node.value = String(attrs.value);
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function time(ms) {
  if (ms === null || ms === undefined || ms === "") return "";
  const date = typeof ms === "number" ? new Date(ms) : new Date(String(ms));
  if (Number.isNaN(date.getTime())) return String(ms);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function timeElement(ms) {
  const date = typeof ms === "number" ? new Date(ms) : new Date(String(ms));
  const valid = !Number.isNaN(date.getTime());
  return el("time", { datetime: valid ? date.toISOString() : null, title: valid ? date.toString() : null },
    time(ms));
}

// The message of one of sdehub's error bodies ({"error": {"message", "errors"}}), else the text.
export function errorMessage(body, fallback) {
  const error = body && body.error;
  if (error && typeof error === "object") {
    const details = (error.errors || []).map((e) => `${e.path}: ${e.message}`);
    return [error.message, ...details].filter(Boolean).join(" — ");
  }
  return fallback;
}

export async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
