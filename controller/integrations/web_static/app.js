// hashpivot operator page. No framework and no build step: it polls /ui/v1/page,
// lays the data out with textContent only (nothing the controller sends is parsed
// as HTML), and sends actions to /api/v1 with the token kept in sessionStorage.
"use strict";

const TOKEN_KEY = "hashpivot.token";
let pollMs = 3000;
let timer = null;

const $ = (id) => document.getElementById(id);

function kw(watts) {
  if (watts === null || watts === undefined) return "-";
  return Math.abs(watts) >= 2e6 ? (watts / 1e6).toFixed(2) + " MW" : (watts / 1e3).toFixed(1) + " kW";
}
function secs(s) { return s === null || s === undefined ? "-" : s.toFixed(1) + " s"; }
function age(s) {
  if (s === null || s === undefined) return "-";
  if (s < 120) return s.toFixed(0) + " s";
  if (s < 7200) return (s / 60).toFixed(0) + " min";
  return (s / 3600).toFixed(1) + " h";
}
function clock(at) {
  return at ? new Date(at * 1000).toISOString().slice(11, 19) + " UTC" : "-";
}

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "-" : String(text);
  if (cls) td.className = cls;
  return td;
}
function fill(id, rows) {
  const body = $(id);
  const fresh = document.createDocumentFragment();
  for (const row of rows) fresh.appendChild(row);
  body.replaceChildren(fresh);
}
function row(values, cls) {
  const tr = document.createElement("tr");
  if (cls) tr.className = cls;
  for (const v of values) tr.appendChild(v instanceof Node ? v : cell(v));
  return tr;
}

function token() { return sessionStorage.getItem(TOKEN_KEY); }
function showToken() {
  $("token-state").textContent = token() ? "token set for this session" : "no token: read only";
}

function say(text, ok) {
  const box = $("action-result");
  box.textContent = text;
  box.className = ok ? "ok" : "refused";
}

async function act(method, path, body, what) {
  const headers = { "Content-Type": "application/json" };
  const t = token();
  if (t) headers["Authorization"] = "Bearer " + t;
  let response;
  try {
    response = await fetch("/api/v1" + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    say(what + " failed: controller unreachable (" + err + ")", false);
    return null;
  }
  let data = {};
  try { data = await response.json(); } catch (err) { data = {}; }
  if (response.ok) {
    say(what + ": done (" + response.status + ")", true);
    refresh();
    return data;
  }
  const why = data.error || response.statusText;
  if (response.status === 401 || response.status === 403) {
    say(what + " refused (" + response.status + "): " + why +
        (t ? "" : ". Enter the API token above."), false);
  } else {
    say(what + " refused (" + response.status + "): " + why, false);
  }
  return null;
}

function render(d) {
  $("site").textContent = d.site;
  const c = d.control;
  const state = $("control-state");
  state.textContent = c.paused ? "paused" + (c.paused_reason ? ": " + c.paused_reason : "")
    : c.dry_run ? "dry run" : c.enabled ? "controlling" : "control disabled";
  state.className = "pill" + (c.paused ? " paused" : c.dry_run ? " dryrun" : "");
  $("updated").textContent = clock(d.now);
  if (d.poll_interval_s) pollMs = d.poll_interval_s * 1000;

  const power = d.signals.find((s) => s.name === "site power");
  $("metered").textContent = power ? kw(power.value) : "-";
  $("metered-source").textContent = power ? "(" + power.source + ")" : "";
  $("commanded").textContent = d.plan ? kw(d.plan.expected_w) : "-";
  $("limit").textContent = d.plan ? kw(d.plan.limit_w) : "-";
  $("device-power").textContent = kw(d.devices.power_w);
  $("chart").src = "/ui/v1/power.svg?t=" + d.now;

  const dv = d.devices;
  $("device-total").textContent = dv.total + " devices";
  fill("by-state", dv.by_state.map((r) => row([r.state, r.count])));
  fill("by-health", dv.by_health.map((r) => row([r.health, r.count],
    r.health === "unreachable" || r.health === "degraded" ? "bad" : "")));
  fill("by-model", dv.by_model.map((r) => row([r.make, r.model, r.count])));
  fill("by-rack", dv.by_rack.map((r) => row([
    r.rack, r.devices, kw(r.power_w),
    Object.entries(r.by_state).map(([k, v]) => k + " " + v).join(", "), r.attention,
  ], r.attention ? "bad" : "")));
  $("attention-total").textContent = dv.attention_total ? "(" + dv.attention_total + ")" : "(none)";
  fill("attention", dv.attention.map((r) => row(
    [r.device, r.make, r.model, r.rack, r.health, r.state, r.why], "bad")));
  fill("overrides", dv.overrides.map((r) => row([r.device, r.action])));

  const p = d.plan;
  if (p) {
    $("plan-meta").textContent = "#" + p.seq + " at " + clock(p.at) + " (" + p.trigger + ")" +
      (p.grid_binding ? ", grid binding" : "") + (p.infeasible ? ", INFEASIBLE" : "") +
      "; commands " + (Object.entries(p.commands).map(([k, v]) => k + " " + v).join(", ") || "none");
    fill("plan-notes", p.notes.map((n) => { const li = document.createElement("li"); li.textContent = n; return li; }));
    fill("plan-groups", p.groups.map((g) => row([
      g.action, g.reason, g.count, kw(g.power_w),
      g.devices.join(", ") + (g.count > g.devices.length ? ", ..." : ""),
    ])));
  } else {
    $("plan-meta").textContent = "no plan yet";
  }

  fill("signal-rows", d.signals.map((s) => row([
    s.name, s.value === null ? "-" : (s.unit === "W" ? kw(s.value) : s.value + " " + s.unit),
    s.source, cell(age(s.age_s) + (s.stale ? " (stale)" : ""), s.stale ? "bad" : ""),
  ])));
  fill("command-rows", Object.entries(d.commands).map(([k, v]) => row([k, v],
    k === "applied" || k === "acknowledged" ? "" : "bad")));

  fill("event-rows", d.events.map((e) => {
    const r = e.report;
    // The report's own verdict: it says "met (estimated)" or "unconfirmed" where the meter
    // has not confirmed the level, which a yes/no field cannot.
    const met = r.compliance ?? "pending";
    const comp = r.compensation.for.length
      ? r.compensation.shed_in_their_place.join(", ") + " for " + r.compensation.for.join(", ")
      : "-";
    const cancel = document.createElement("td");
    if (e.active) {
      const button = document.createElement("button");
      button.textContent = "Cancel";
      button.className = "cancel-event";
      button.dataset.event = e.event_id;
      button.addEventListener("click", () =>
        act("DELETE", "/events/" + encodeURIComponent(e.event_id), undefined, "cancel " + e.event_id));
      cancel.appendChild(button);
    }
    return row([
      e.event_id, e.kind, e.cancelled_at ? "cancelled" : e.active ? "active" : "over",
      e.level_mw === null ? "-" : kw(e.level_mw * 1e6), clock(e.deadline), kw(r.baseline_w),
      secs(r.time_to_50_s), secs(r.time_to_90_s), secs(r.time_to_100_s),
      cell(met, met.startsWith("not met") || met === "unconfirmed" ? "bad" : met === "met" ? "good" : "warn"),
      r.confirmed_by, r.failed_devices, comp, cancel,
    ], e.active ? "active" : "");
  }));
}

async function refresh() {
  try {
    const response = await fetch("/ui/v1/page", { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    render(await response.json());
    $("conn").textContent = "";
  } catch (err) {
    $("conn").textContent = "controller unreachable: " + err.message;
  }
}

function loop() {
  refresh().finally(() => { timer = setTimeout(loop, pollMs); });
}

function wire() {
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const value = $("token").value.trim();
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    $("token").value = "";
    showToken();
  });
  $("token-forget").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); showToken(); });
  $("event-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const kind = $("event-kind").value;
    const now = Date.now() / 1000;
    const body = { kind, end: now + Number($("event-minutes").value) * 60, source: "web" };
    const level = $("event-level").value;
    if (level !== "" && kind !== "relay_trip") body.level_mw = Number(level);
    const within = $("event-within").value;
    if (within !== "") body.within_s = Number(within);
    act("POST", "/events", body, "create " + kind + " event");
  });
  $("pause-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    act("POST", "/control/pause", { reason: $("pause-reason").value }, "pause");
  });
  $("resume").addEventListener("click", () => act("POST", "/control/resume", undefined, "resume"));
  $("override-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const device = $("override-device").value.trim();
    act("PUT", "/overrides/" + encodeURIComponent(device), {
      action: $("override-action").value, ttl_s: Number($("override-minutes").value) * 60,
      reason: $("override-reason").value,
    }, "override " + device);
  });
  $("override-clear").addEventListener("click", () => {
    const device = $("override-device").value.trim();
    act("DELETE", "/overrides/" + encodeURIComponent(device), undefined, "clear override " + device);
  });
  showToken();
  loop();
}

document.addEventListener("DOMContentLoaded", wire);
