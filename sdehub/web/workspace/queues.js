// The queue lists: My conversations, and the conversations waiting in the agent's skills' queues
// grouped by skill, each with Accept.
import { clear, el, time } from "./dom.js";

const $ = (id) => document.getElementById(id);

function itemLabel(item, skillName) {
  const waited = Math.max(0, Math.round((Date.now() - item.startTime) / 60000));
  return [
    `Consumer ${item.consumerId.slice(0, 10)}`,
    el("small", {}, `${skillName(item.skillId)} · started ${time(item.startTime)} · ${waited} min`),
  ];
}

function itemRow(item, waiting, { selectedId, skillName, select, accept }) {
  const current = selectedId === item.conversationId;
  return el("li", { class: "conv-item", "data-conversation": item.conversationId },
    el("button", {
      type: "button", class: "select", "data-role": "select", "aria-current": current ? "true" : "false",
      "aria-label": `${waiting ? "Waiting" : "Mine"}: conversation ${item.conversationId}`,
      onclick: () => select(item),
    }, itemLabel(item, skillName)),
    waiting ? el("button", { type: "button", "data-role": "accept", onclick: () => accept(item) }, "Accept") : null);
}

// Both lists from the desk ({waiting, mine}); `context` is {selectedId, skillName, select, accept}.
export function renderQueues({ waiting, mine }, context) {
  // Re-rendering must not steal the keyboard focus: put it back on the same control.
  const active = document.activeElement;
  const row = active && active.closest && active.closest(".conv-item");
  const focus = row ? [row.dataset.conversation, active.dataset.role] : null;

  clear($("mine-list")).append(...mine.map((item) => itemRow(item, false, context)));
  $("mine-empty").hidden = mine.length > 0;
  $("mine-count").textContent = `(${mine.length})`;
  const groups = new Map();
  for (const item of waiting) {
    const id = item.skillId === null ? "" : String(item.skillId);
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id).push(item);
  }
  clear($("waiting-groups")).append(...[...groups].map(([id, items]) => {
    const title = `waiting-skill-${id || "unassigned"}`;
    return el("div", { class: "skill-group", "data-skill": id || "unassigned" },
      el("h3", { id: title }, id ? `${context.skillName(id)} (${id})` : "Unassigned"),
      el("ul", { class: "conv-list", "aria-labelledby": title }, items.map((item) => itemRow(item, true, context))));
  }));
  $("waiting-empty").hidden = waiting.length > 0;
  $("waiting-count").textContent = `(${waiting.length})`;
  if (focus) {
    const again = document.querySelector(
      `.conv-item[data-conversation="${CSS.escape(focus[0])}"] [data-role="${focus[1]}"]`)
      || document.querySelector(`.conv-item[data-conversation="${CSS.escape(focus[0])}"] [data-role="select"]`);
    if (again) again.focus();
  }
}
