// The reports page: logs in (or reuses the agent workspace's login from sessionStorage), asks
// the reports API for JSON and CSV, and draws a chart (Chart.js, vendored) and a table of the
// same rows the API answered.

const KEYS = { bearer: "sdehub.bearer", account: "sdehub.account", agent: "sdehub.agentId" };

// Column names of each report: the group-by dimensions asked, then the metrics (as the CSV).
const REPORTS = {
  "goal-tracker": {
    dimensions: { day: "day", campaign: "campaignId", skill: "skillId", agent: "agentId" },
    defaultGroupBy: ["day"],
    metrics: ["reportedBy", "reportingAgentId", "currency", "goalsReached", "assistedConversions",
              "transactions", "transactionValue", "leads", "leadValue", "serviceActivities"],
  },
  "sde-activity": {
    dimensions: { day: "day", type: "type", source: "source", authenticated: "authenticated" },
    defaultGroupBy: ["day", "type", "source", "authenticated"],
    metrics: ["events"],
  },
};
const NUMERIC = new Set(["goalsReached", "assistedConversions", "transactions", "transactionValue",
                         "leads", "leadValue", "serviceActivities", "events"]);

const $ = (selector) => document.querySelector(selector);
let chart = null;
let csvUrl = null;

function session() {
  const bearer = sessionStorage.getItem(KEYS.bearer);
  const account = sessionStorage.getItem(KEYS.account);
  return bearer && account ? { bearer, account, agent: sessionStorage.getItem(KEYS.agent) } : null;
}

function show() {
  const s = session();
  $("#login").hidden = Boolean(s);
  $("#report").hidden = !s;
  $("#logout").hidden = !s;
  $("#who").textContent = s ? `account ${s.account}${s.agent ? `, agent ${s.agent}` : ""}` : "";
  if (s) load();
}

async function login(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const account = String(form.get("account")).trim();
  $("#login-error").textContent = "";
  const r = await fetch(`/api/account/${encodeURIComponent(account)}/login?v=1.3`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    $("#login-error").textContent = body.error?.message || `login failed (${r.status})`;
    return;
  }
  sessionStorage.setItem(KEYS.bearer, body.bearer);
  sessionStorage.setItem(KEYS.account, account);
  if (body.config?.userId) sessionStorage.setItem(KEYS.agent, body.config.userId);
  show();
}

function logout() {
  for (const key of Object.values(KEYS)) sessionStorage.removeItem(key);
  show();
}

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function groupByBoxes() {
  const report = REPORTS[$("#filters").report.value];
  const box = $("#group-by");
  box.replaceChildren(Object.assign(document.createElement("legend"), { textContent: "Group by" }));
  for (const name of Object.keys(report.dimensions)) {
    const input = Object.assign(document.createElement("input"), {
      type: "checkbox", name: "groupBy", value: name,
      checked: report.defaultGroupBy.includes(name),
    });
    const label = document.createElement("label");
    label.append(input, ` ${name}`);
    box.append(label);
  }
  $("#attribution").hidden = $("#filters").report.value !== "goal-tracker";
}

function query(format) {
  const form = $("#filters");
  const params = new URLSearchParams({ from: form.from.value, to: form.to.value });
  const groupBy = [...form.querySelectorAll("input[name=groupBy]:checked")].map((i) => i.value);
  params.set("groupBy", groupBy.join(","));
  if (form.report.value === "goal-tracker") params.set("attributionDays", form.attributionDays.value);
  if (format) params.set("format", format);
  const s = session();
  return `/api/account/${encodeURIComponent(s.account)}/reports/${form.report.value}?${params}`;
}

async function call(url) {
  const r = await fetch(url, { headers: { Authorization: `Bearer ${session().bearer}` } });
  if (r.status === 401) {
    logout();
    throw new Error("the login has ended; log in again");
  }
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    throw new Error(body.error?.message || `the report failed (${r.status})`);
  }
  return r;
}

export function cell(value) {
  if (value === null || value === undefined) return "";
  return String(value);
}

async function load(event) {
  event?.preventDefault();
  $("#report-error").textContent = "";
  try {
    const [json, csv] = await Promise.all([call(query()), call(query("csv"))]);
    const report = await json.json();
    render(report);
    const disposition = csv.headers.get("Content-Disposition") || "";
    const blob = await csv.blob();
    if (csvUrl) URL.revokeObjectURL(csvUrl);
    csvUrl = URL.createObjectURL(blob);
    const link = $("#csv-link");
    link.href = csvUrl;
    link.download = (/filename="([^"]+)"/.exec(disposition) || [])[1] || "report.csv";
  } catch (err) {
    $("#report-error").textContent = err.message;
  }
}

function columnsOf(name, report) {
  const spec = REPORTS[name];
  // The dimensions asked for in the API's fixed order (as its JSON rows and CSV list them).
  const dims = Object.keys(spec.dimensions).filter((d) => report.groupBy.includes(d));
  return [...dims.map((d) => spec.dimensions[d]), ...spec.metrics];
}

function render(report) {
  const name = $("#filters").report.value;
  const columns = columnsOf(name, report);
  const head = document.createElement("tr");
  for (const c of columns) head.append(Object.assign(document.createElement("th"), { textContent: c }));
  $("#report-table thead").replaceChildren(head);
  const body = report.rows.map((row) => {
    const tr = document.createElement("tr");
    for (const c of columns) {
      const td = Object.assign(document.createElement("td"), { textContent: cell(row[c]) });
      if (NUMERIC.has(c)) td.className = "num";
      tr.append(td);
    }
    return tr;
  });
  $("#report-table tbody").replaceChildren(...body);
  $("#summary").textContent = `${report.rows.length} rows, ${report.from} to ${report.to}`;
  draw(name, report);
}

// Goal tracker: one bar per combination of the group-by values, stacked by reporter, beside
// the assisted conversions. SDE activity: one bar per value of the first dimension (the day,
// when grouped by day), stacked by the combination of the others (type / source / ...).
function draw(name, report) {
  const spec = REPORTS[name];
  const dims = Object.keys(spec.dimensions).filter((d) => report.groupBy.includes(d))
    .map((d) => spec.dimensions[d]);
  const join = (row, names) => names.map((d) => cell(row[d]) || "(none)").join(" / ");
  let labelOf = (row) => join(row, dims) || "total";
  let series;
  if (name === "goal-tracker") {
    series = [
      ["reached", "Goals reached, consumer-reported", (r) => r.reportedBy === "consumer" ? r.goalsReached : 0],
      ["reached", "Goals reached, agent-reported", (r) => r.reportedBy === "agent" ? r.goalsReached : 0],
      ["assisted", "Assisted conversions", (r) => r.assistedConversions],
    ];
  } else {
    const [first, ...rest] = dims;
    labelOf = (row) => (first ? cell(row[first]) : "total");
    const stacks = [...new Set(report.rows.map((row) => join(row, rest) || "SDEs accepted"))];
    series = stacks.map((stack) => [
      "events", stack, (r) => ((join(r, rest) || "SDEs accepted") === stack ? r.events : 0),
    ]);
  }
  const labels = [...new Set(report.rows.map(labelOf))];
  const datasets = series.map(([stack, label, value]) => {
    const sums = new Map(labels.map((l) => [l, 0]));
    for (const row of report.rows) sums.set(labelOf(row), sums.get(labelOf(row)) + value(row));
    return { label, stack, data: labels.map((l) => sums.get(l)) };
  });
  if (chart) chart.destroy();
  chart = new window.Chart($("#chart"), {
    type: "bar",
    data: { labels, datasets },
    options: {
      animation: false, maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
  window.sdehubChart = chart; // for the browser test: what was drawn
}

function start() {
  const form = $("#filters");
  const today = new Date();
  form.to.value = isoDay(today);
  form.from.value = isoDay(new Date(today.getTime() - 6 * 86400000));
  const given = new URLSearchParams(location.search);
  for (const key of ["report", "from", "to"]) if (given.get(key)) form[key].value = given.get(key);
  groupByBoxes();
  form.report.addEventListener("change", () => { groupByBoxes(); load(); });
  form.addEventListener("submit", load);
  $("#login").addEventListener("submit", login);
  $("#logout").addEventListener("click", logout);
  show();
}

start();
