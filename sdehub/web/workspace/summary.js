// The Conversation Summary widget: the agent survey (runtime API, x-lp-state-rev) and the
// conversation outcomes. The widget shows only when one of its sections has something to show.
import { clear, el, errorMessage, readJson, time } from "./dom.js";

const EA_LABELS = {
  order_total: "Order total", currency: "Currency", order_id: "Order ID", topic: "Topic",
  value: "Value", lead_id: "Lead ID", status: "Status", category: "Category", service_id: "Service ID",
};
const EA_NUMBERS = new Set(["order_total", "value", "status"]);
const EA_KEY = { purchase: "purchase", lead: "lead", service_activity: "service", service: "service" };
const SINGLE = new Set(["radio_button", "dropdown"]);

export class Summary {
  constructor({ api, account, agentId, toast }) {
    this.api = api;
    this.agentId = agentId;
    this.account = account;
    this.toast = toast;
    this.root = document.getElementById("summary");
    this.surveySection = document.getElementById("survey-section");
    this.surveyForm = document.getElementById("survey-form");
    this.surveyStatus = document.getElementById("survey-status");
    this.surveyErrors = document.getElementById("survey-errors");
    this.outcomesSection = document.getElementById("outcomes-section");
    this.outcomesBody = document.getElementById("outcomes-body");
    this.outcomesStatus = document.getElementById("outcomes-status");
    this.conversation = null;
    this.generation = 0;
  }

  reset() {
    this.generation += 1;
    this.conversation = null;
    this.survey = null;
    this.surveySection.hidden = true;
    this.outcomesSection.hidden = true;
    this.root.hidden = true;
  }

  async load(conversationId, skillId) {
    this.reset();
    this.conversation = conversationId;
    this.skill = skillId;
    const generation = this.generation;
    await Promise.all([this.loadSurvey(generation), this.loadOutcomes(generation)]);
  }

  visible() {
    this.root.hidden = this.surveySection.hidden && this.outcomesSection.hidden;
  }

  // --- agent survey ----------------------------------------------------------------------

  surveyUrl() {
    const q = new URLSearchParams({ conv: this.conversation, skill: this.skill || "-1", v: "2.0" });
    return `/api/account/${this.account}/forms/agent_survey/state?${q}`;
  }

  async loadSurvey(generation) {
    const response = await this.api("GET", this.surveyUrl());
    if (generation !== this.generation) return;
    if (response.status === 404) { // no survey applies to this conversation
      this.surveySection.hidden = true;
      this.visible();
      return;
    }
    const body = await readJson(response);
    if (!response.ok) {
      this.toast(errorMessage(body, `the agent survey could not be read (${response.status})`), true);
      return;
    }
    this.survey = body;
    this.revision = response.headers.get("x-lp-state-rev") || String(body.agentSurveyContext.stateRevision);
    this.renderSurvey();
    this.surveySection.hidden = false;
    this.visible();
  }

  renderSurvey() {
    const survey = this.survey;
    const status = survey.agentSurveyContext.agentSurveyStatus;
    this.surveyStatus.textContent = `${survey.name}: ${status}`;
    this.surveyStatus.dataset.status = status;
    clear(this.surveyErrors);
    const form = clear(this.surveyForm);
    const done = status === "dismissed" || status === "closed";
    const questions = [...survey.questions].sort((a, b) => a.orderId - b.orderId);
    for (const q of questions) form.append(question(q));
    form.append(el("div", { class: "row" },
      el("button", { type: "button", class: "secondary", disabled: done, onclick: () => this.act("PUT") },
        "Save draft"),
      el("button", { type: "submit", disabled: done }, status === "submitted" ? "Resubmit" : "Submit survey")));
    form.onsubmit = (event) => { event.preventDefault(); this.act("POST"); };
    form.onchange = () => this.branch();
    for (const control of form.querySelectorAll("input, select, textarea")) control.disabled = done;
    this.branch();
  }

  // Show the questions on the path the answers take (branching only jumps forward).
  branch() {
    const questions = [...this.survey.questions].sort((a, b) => a.orderId - b.orderId);
    const byId = new Map(questions.map((q) => [q.id, q]));
    const on = new Set();
    let current = byId.get(this.survey.root) || questions[0];
    while (current && !on.has(current.id)) {
      on.add(current.id);
      let next = current.next;
      if (SINGLE.has(current.category)) {
        const chosen = this.replyIds(current)[0];
        const reply = (current.replies || []).find((r) => r.id === chosen);
        if (reply && reply.next) next = reply.next;
      }
      current = next ? byId.get(next) : questions[questions.indexOf(current) + 1];
    }
    for (const fieldset of this.surveyForm.querySelectorAll("fieldset[data-question]")) {
      fieldset.hidden = !on.has(Number(fieldset.dataset.question));
    }
  }

  replyIds(q) {
    const fieldset = this.surveyForm.querySelector(`fieldset[data-question="${q.id}"]`);
    if (!fieldset) return [];
    if (q.category === "dropdown") {
      const value = fieldset.querySelector("select").value;
      return value ? [Number(value)] : [];
    }
    return [...fieldset.querySelectorAll("input:checked")].map((i) => Number(i.value));
  }

  states() {
    const states = [];
    for (const q of this.survey.questions) {
      const fieldset = this.surveyForm.querySelector(`fieldset[data-question="${q.id}"]`);
      if (!fieldset || fieldset.hidden) continue;
      if (q.questionDefinition === "engagement_attributes" && q.engagementAttribute) {
        const values = {};
        for (const input of fieldset.querySelectorAll("[data-attribute]")) {
          const raw = input.value.trim();
          if (!raw) continue;
          // Anything typed that is not a number goes as typed: the server names what is wrong.
          const number = EA_NUMBERS.has(input.dataset.attribute) ? Number(raw) : NaN;
          values[input.dataset.attribute] = Number.isFinite(number) ? number : raw;
        }
        if (Object.keys(values).length) {
          const type = q.engagementAttribute.type;
          states.push({ id: q.id, questionStatus: "answer",
            engAttribute: { type: type === "service_activity" ? "service" : type, [EA_KEY[type]]: values } });
        }
      } else if (["radio_button", "checkbox", "dropdown"].includes(q.category)) {
        const ids = this.replyIds(q);
        if (ids.length) states.push({ id: q.id, questionStatus: "answer", replyIds: ids });
      } else {
        const value = fieldset.querySelector("input, textarea").value.trim();
        if (value) states.push({ id: q.id, questionStatus: "answer", freeTextReply: value });
      }
    }
    return states;
  }

  async act(method) {
    clear(this.surveyErrors);
    const generation = this.generation;
    const response = await this.api(method, this.surveyUrl(), {
      body: this.states(), headers: { "x-lp-state-rev": this.revision },
    });
    if (generation !== this.generation) return;
    const body = await readJson(response);
    if (response.status === 409) {
      this.toast("The survey changed since you opened it: it has been reloaded.", true);
      await this.loadSurvey(generation);
      return;
    }
    if (!response.ok) {
      const errors = (body && body.error && body.error.errors) || [];
      this.surveyErrors.append(...(errors.length
        ? errors.map((e) => el("li", {}, `${e.path}: ${e.message}`))
        : [el("li", {}, errorMessage(body, `failed (${response.status})`))]));
      return;
    }
    this.revision = response.headers.get("x-lp-state-rev") || String(body.stateRevision);
    this.survey.agentSurveyContext = body;
    this.surveyStatus.textContent = `${this.survey.name}: ${body.agentSurveyStatus}`;
    this.surveyStatus.dataset.status = body.agentSurveyStatus;
    const submit = this.surveyForm.querySelector("button[type=submit]");
    if (body.agentSurveyStatus === "submitted") submit.textContent = "Resubmit";
    this.toast(method === "POST" ? "Agent survey submitted." : "Agent survey saved.");
  }

  // --- conversation outcomes -------------------------------------------------------------

  outcomesUrl() {
    return `/api/account/${this.account}/agent-workspace/conversations/${encodeURIComponent(this.conversation)}/outcomes`;
  }

  async loadOutcomes(generation) {
    const response = await this.api("GET", this.outcomesUrl());
    if (generation !== this.generation) return;
    // 404: outcomes are not available on this server (or the conversation is gone): no section.
    const body = response.ok ? await readJson(response) : null;
    if (!body || !Array.isArray(body.sections) || !body.sections.length) {
      this.outcomesSection.hidden = true;
      this.visible();
      return;
    }
    this.renderOutcomes(body);
    this.outcomesSection.hidden = false;
    this.visible();
  }

  renderOutcomes(outcomes) {
    const body = clear(this.outcomesBody);
    // open: submissions are accepted now; deadline: after a close, the last moment for them.
    this.outcomesStatus.textContent = !outcomes.open
      ? "Outcomes can no longer be reported for this conversation."
      : outcomes.deadline ? `Can be reported until ${time(outcomes.deadline)}.`
        : "Report what this conversation achieved.";
    for (const section of outcomes.sections) {
      const submitted = outcomes.submissions.filter((s) => s.sde === section.sde);
      const errors = el("ul", { class: "error-list", role: "alert" });
      const form = el("form", { class: "outcome-form", "data-outcome": section.sde, novalidate: true },
        el("fieldset", { disabled: !outcomes.open },
          el("legend", {}, section.title),
          section.fields.map((f) => outcomeField(section.sde, f, submitted.at(-1))),
          el("button", { type: "submit" }, `Report ${section.title.toLowerCase()}`)),
        errors,
        submitted.length
          ? el("ul", { class: "submissions", "aria-label": `${section.title} reported` },
            submitted.map((s) => el("li", {}, `${time(s.time)} by ${s.agentId === this.agentId ? "you" : s.agentId}: `
              + section.fields.filter((f) => s.values[f.field] !== undefined && s.values[f.field] !== null)
                .map((f) => `${f.displayName} ${shown(f, s.values[f.field])}`).join(", "))))
          : null);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.report(section, form, errors);
      });
      body.append(form);
    }
  }

  // After a close the form stays open until a deadline: show it without reselecting.
  async refreshOutcomes() {
    if (!this.conversation) return;
    await this.loadOutcomes(this.generation);
  }

  async report(section, form, errors) {
    // One report at a time: a second click or Enter while one is on its way would record the
    // outcome twice (a Transaction or Lead appends).
    const button = form.querySelector("button[type=submit]");
    if (button.disabled) return;
    button.disabled = true;
    try {
      await this.send(section, form, errors);
    } finally {
      button.disabled = false;
    }
  }

  async send(section, form, errors) {
    clear(errors);
    for (const f of section.fields) fieldError(form, f.field, null);
    const values = {};
    for (const f of section.fields) {
      const input = form.querySelector(`[name="${f.field}"]`);
      const raw = input.value.trim();
      if (!raw) continue;
      // An enum (Service Activity status) is chosen by name; its value is the name's index.
      // Anything typed that is not a number goes as typed: the server names what is wrong.
      const number = f.type === "number" || f.type === "integer" ? Number(raw) : NaN;
      values[f.field] = Number.isFinite(number) ? number : raw;
    }
    const generation = this.generation;
    const response = await this.api("POST", this.outcomesUrl(), { body: { sde: section.sde, values } });
    if (generation !== this.generation) return;
    const body = await readJson(response);
    if (!response.ok) {
      const list = (body && body.error && body.error.errors) || [];
      // A problem with one field is shown under that field; the others under the form.
      const rest = list.filter((e) => {
        const name = typeof e.path === "string" && e.path.startsWith("$.values.") ? e.path.slice(9) : null;
        return !(name && section.fields.some((f) => f.field === name) && fieldError(form, name, e.message));
      });
      if (rest.length) errors.append(...rest.map((e) => el("li", {}, `${e.path}: ${e.message}`)));
      else if (!list.length) errors.append(el("li", {}, errorMessage(body, `failed (${response.status})`)));
      const invalid = form.querySelector('[aria-invalid="true"]');
      if (invalid) invalid.focus();
      return;
    }
    this.toast(`${section.title} reported.`);
    await this.loadOutcomes(generation);
  }
}

// Shows (or, with null, clears) the error of one outcome field; false when the form lacks it.
function fieldError(form, name, message) {
  const input = form.querySelector(`[name="${name}"]`);
  const note = input && form.querySelector(`#${CSS.escape(input.id)}-error`);
  if (!input || !note) return false;
  note.textContent = message || "";
  note.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  return true;
}

function question(q) {
  const id = `q-${q.id}`;
  const state = q.questionState || {};
  const legend = el("legend", {}, q.text, q.required ? el("span", { class: "required", "aria-hidden": "true" }, " *") : null);
  const fieldset = el("fieldset", { "data-question": q.id, "aria-required": q.required ? "true" : null }, legend);
  const chosen = new Set(state.replyIds || []);
  if (q.questionDefinition === "engagement_attributes" && q.engagementAttribute) {
    const type = q.engagementAttribute.type;
    const given = (state.engAttribute && (state.engAttribute[EA_KEY[type]] || state.engAttribute.service)) || {};
    for (const attribute of q.engagementAttribute.attributes) {
      // Numbers are typed in text inputs too (see outcomeField).
      const input = el("input", {
        id: `${id}-${attribute}`, "data-attribute": attribute, type: "text",
        inputmode: EA_NUMBERS.has(attribute) ? "decimal" : null, value: given[attribute] ?? "",
      });
      fieldset.append(el("div", { class: "field" },
        el("label", { for: input.id }, EA_LABELS[attribute] || attribute), input));
    }
  } else if (q.category === "dropdown") {
    const select = el("select", { id, "aria-label": q.text },
      el("option", { value: "" }, "Choose…"),
      (q.replies || []).map((r) => el("option", { value: String(r.id), selected: chosen.has(r.id) }, r.text)));
    fieldset.append(select);
  } else if (q.category === "radio_button" || q.category === "checkbox") {
    const type = q.category === "radio_button" ? "radio" : "checkbox";
    for (const r of q.replies || []) {
      const input = el("input", { type, id: `${id}-${r.id}`, name: id, value: String(r.id), checked: chosen.has(r.id) });
      fieldset.append(el("div", { class: "choice" }, input, el("label", { for: input.id }, r.text)));
    }
  } else if (q.category === "free_text") {
    fieldset.append(el("textarea", { id, rows: 2, "aria-label": q.text, maxlength: q.maxCharacters || 1024,
      value: state.freeTextReply || "" }));
  } else {
    // A number question's answer is sent as typed (freeTextReply) and checked by the server.
    fieldset.append(el("input", { id, "aria-label": q.text, type: q.category === "date" ? "date" : "text",
      inputmode: q.category === "number" ? "decimal" : null, value: state.freeTextReply || "" }));
  }
  return fieldset;
}

function shown(field, value) {
  return Array.isArray(field.enum) && field.enum[value] !== undefined ? field.enum[value] : String(value);
}

function outcomeField(sde, f, last) {
  const id = `outcome-${sde}-${f.field}`;
  const previous = last && last.values[f.field] !== undefined ? String(last.values[f.field]) : "";
  const note = `${id}-error`;
  // Numbers are typed in text inputs: a number input hides what it cannot parse (its value is
  // then ""), which would drop the field silently instead of reporting the mistake.
  const input = Array.isArray(f.enum) && f.enum.length
    ? el("select", { id, name: f.field, "aria-describedby": note },
      el("option", { value: "" }, "Choose…"),
      f.enum.map((name, i) => el("option", { value: String(i), selected: String(i) === previous }, name)))
    : el("input", { id, name: f.field, type: "text", "aria-describedby": note, "data-type": f.type,
      inputmode: f.type === "number" ? "decimal" : f.type === "integer" ? "numeric" : null, value: previous });
  return el("div", { class: "field" }, el("label", { for: id }, f.displayName), input,
    el("p", { id: note, class: "field-error", hidden: true }));
}
