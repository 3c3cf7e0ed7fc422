// Consumer Info (every SDE type of the public model, each entry with its provenance) and the
// visitor journey panel.
import { clear, el, timeElement } from "./dom.js";

export const SDE_TYPES = [
  ["customerDetails", "Customer info"],
  ["personalInfo", "Personal info"],
  ["marketingSource", "Marketing source"],
  ["leadGeneration", "Lead"],
  ["transaction", "Transaction"],
  ["viewedProducts", "Viewed products"],
  ["shoppingCart", "Shopping cart"],
  ["serviceActivity", "Service activity"],
  ["error", "Visitor error"],
  ["searchContent", "Searched content"],
];
const AUTHENTICATED_TYPES = [
  ["customerDetails", "Customer info"],
  ["personalInfo", "Personal info"],
];
const SOURCES = {
  connector: "Connector API",
  jwt: "consumer id_token",
  api: "API",
  webtag: "web tag",
  monitoring: "Monitoring API",
  eaapi: "Engagement Attributes API",
  agent: "agent",
  demo: "demo data",
};

// Agent-reported first (an agent said so, whatever the flag), then the authentication flag.
export function provenance(meta) {
  if (!meta) return "unauthenticated";
  if (meta.source === "agent") return "agent-reported";
  return meta.authenticated ? "authenticated" : "unauthenticated";
}

function entriesOf(value) {
  if (Array.isArray(value)) return value;
  // SDE.searchContent is one object whose keywords accumulate.
  if (value && typeof value === "object" && Array.isArray(value.keywords)) {
    return value.keywords.length ? [value] : [];
  }
  return [];
}

function describe(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(describe).filter(Boolean).join("; ");
  if (typeof value === "object") {
    return Object.entries(value)
      .filter(([key]) => key !== "_meta")
      .map(([key, v]) => `${key}: ${describe(v)}`)
      .join(", ");
  }
  return String(value);
}

function entry(record) {
  const meta = record._meta;
  const kind = provenance(meta);
  const fields = Object.entries(record).filter(([key, v]) =>
    key !== "_meta" && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0));
  return el("article", { class: "sde-entry", "data-provenance": kind },
    el("p", { class: "prov" },
      el("span", { class: `badge prov-${kind === "agent-reported" ? "agent" : kind}` }, kind),
      meta ? el("span", {}, `via ${SOURCES[meta.source] || meta.source}`) : null,
      meta && meta.actor ? el("span", {}, `by ${meta.actor}`) : null,
      meta ? timeElement(meta.serverTs) : null),
    el("dl", { class: "fields" },
      fields.map(([key, v]) => [el("dt", {}, key), el("dd", {}, describe(v))])));
}

function typeSection(path, label, value) {
  const entries = entriesOf(value);
  return el("section", { class: `sde-type${entries.length ? "" : " is-empty"}`, "data-sde": path },
    el("h3", {}, el("span", {}, label), el("span", { class: "count" }, String(entries.length))),
    entries.length ? entries.map(entry) : null);
}

export function renderConsumerInfo(container, sde, authenticated) {
  // authenticatedData repeats the authenticated entries above (a deprecated path): folded away
  // unless the agent opened it.
  const previous = container.querySelector("details.authenticated");
  const focused = previous && previous.querySelector("summary") === document.activeElement;
  clear(container);
  container.append(
    ...SDE_TYPES.map(([key, label]) => typeSection(`SDE.${key}`, label, sde[key])),
    el("details", { class: "authenticated", open: previous ? previous.open : false },
      el("summary", {}, "authenticatedData (deprecated path)"),
      AUTHENTICATED_TYPES.map(([key, label]) =>
        typeSection(`authenticatedData.${key}`, label, authenticated[key]))));
  if (focused) container.querySelector("details.authenticated > summary").focus();
}

export function renderJourney(container, journey) {
  clear(container);
  if (!journey || !journey.visit) {
    container.append(el("p", { class: "empty", "data-journey": "none" },
      "This conversation did not come from a web visit."));
    return;
  }
  const visit = journey.visit;
  container.append(el("div", {},
    el("p", { class: "meta" }, "Visit started ", timeElement(visit.startTime),
      visit.returningVisitor ? " · returning visitor" : "", ` · ${journey.pages.length} page(s)`),
    el("ol", { class: "journey-pages", "aria-label": "Pages visited" },
      journey.pages.map((page) => el("li", { "data-page": page.pageId },
        timeElement(page.firstTime), " ",
        page.sections.map((s) => el("span", { class: "chip" }, s)),
        page.urls.map((u) => el("div", { class: "meta" }, u)),
        page.sections.length || page.urls.length ? null : el("span", { class: "meta" }, page.pageId)))),
    journey.engagements.length
      ? el("div", {},
        el("h3", {}, "Engagements offered"),
        el("ul", { class: "journey-pages" }, journey.engagements.map((e) =>
          el("li", {}, timeElement(e.offeredTime),
            ` campaign ${e.campaignId}, engagement ${e.engagementId} (context ${e.contextId})`))))
      : null));
}
