/// The console's one page: plain HTML, CSS and JavaScript, no build step and nothing fetched
/// from elsewhere (it works on an air-gapped network). The script polls `/api/state` each
/// second and redraws with `textContent` only, so nothing a node reports (a host name, an error
/// sentence) is ever read as HTML.
///
/// The elements a test reads carry ids and data attributes: `body[data-nodes-up]`,
/// `tr[data-node-id][data-state]`, `#rebuild[data-groups][data-finished]`, `#events li`.
enum ConsolePage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>RadonFS console</title>
<style>
  :root { --ok: #1f7a3a; --warn: #b26a00; --bad: #b3261e; --muted: #667; --line: #dde; }
  * { box-sizing: border-box; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #223; background: #f6f7fb; }
  header { background: #1d2540; color: #fff; padding: 10px 20px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  header .figure { font-size: 13px; opacity: .9; }
  header .figure b { font-size: 16px; }
  main { padding: 16px 20px; display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); font-variant-numeric: tabular-nums; }
  th { font-weight: 600; color: var(--muted); font-size: 12px; }
  .state { font-weight: 600; }
  .state-up, .ok { color: var(--ok); }
  .state-down, .warn { color: var(--warn); }
  .state-lost, .bad { color: var(--bad); }
  .bar { height: 8px; background: #e8eaf2; border-radius: 4px; overflow: hidden; min-width: 80px; }
  .bar > div { height: 100%; background: #4a67d6; }
  .groups { display: flex; flex-wrap: wrap; gap: 3px; margin: 4px 0 10px; }
  .group { width: 14px; height: 14px; border-radius: 2px; background: var(--ok); }
  .group.degraded { background: #e0a030; }
  .group.unavailable { background: var(--bad); }
  .group.healing { outline: 2px solid #4a67d6; outline-offset: -2px; }
  .group.doubled { background-image: linear-gradient(135deg, transparent 45%, #fff 45%, #fff 55%, transparent 55%); }
  .legend span { display: inline-flex; align-items: center; gap: 4px; margin-right: 12px; color: var(--muted); font-size: 12px; }
  ol#events { list-style: none; padding: 0; margin: 0; max-height: 320px; overflow-y: auto; }
  ol#events li { padding: 3px 0; border-bottom: 1px solid var(--line); }
  ol#events li.warning { color: var(--bad); }
  ol#events time { color: var(--muted); margin-right: 8px; font-variant-numeric: tabular-nums; }
  progress { width: 100%; height: 14px; }
  .muted { color: var(--muted); }
  #problem { background: #fdecea; color: var(--bad); padding: 8px 20px; display: none; }
  button { font: inherit; padding: 4px 10px; border-radius: 4px; border: 1px solid #99a; background: #fff; cursor: pointer; }
  button.danger { border-color: var(--bad); color: var(--bad); }
  .admin-only { display: none; }
  body.admin .admin-only { display: revert; }
  body.admin .guest-only { display: none; }
  #action-result { margin-top: 6px; }
</style>
</head>
<body data-nodes-total="0" data-nodes-up="0" data-active="false">
<header>
  <h1>RadonFS</h1>
  <span class="figure">nodes up <b id="nodes-up">–</b> / <b id="nodes-total">–</b></span>
  <span class="figure">protection <b id="protection">–</b></span>
  <span class="figure">raw capacity <b id="capacity">–</b> (<span id="free">–</span> free)</span>
  <span class="figure">inodes <b id="files">–</b></span>
  <span class="figure muted" id="updated"></span>
</header>
<div id="problem"></div>
<main>
  <section>
    <h2>Protection</h2>
    <div id="protection-text"></div>
    <ul id="advice"></ul>
  </section>
  <section>
    <h2>Healing</h2>
    <div id="rebuild" data-groups="0" data-finished="0">
      <div><b>Rebuild</b> <span id="rebuild-text" class="muted">nothing to do</span></div>
      <progress id="rebuild-progress" max="1" value="0"></progress>
    </div>
    <div id="scrub" data-groups="0" data-finished="0">
      <div><b>Scrub</b> <span id="scrub-text" class="muted">none run yet</span></div>
      <progress id="scrub-progress" max="1" value="0"></progress>
    </div>
    <div id="pending" class="muted"></div>
  </section>
  <section class="wide">
    <h2>Storage nodes</h2>
    <table>
      <thead><tr><th>id</th><th>address</th><th>host</th><th>state</th><th>since</th><th>capacity</th><th>used</th><th>fragments</th><th class="admin-only"></th></tr></thead>
      <tbody id="nodes"></tbody>
    </table>
  </section>
  <section class="wide">
    <h2>Volumes and placement groups</h2>
    <div class="legend">
      <span><i class="group"></i>healthy</span><span><i class="group degraded"></i>degraded</span>
      <span><i class="group unavailable"></i>unavailable</span><span><i class="group healing"></i>healing</span>
      <span><i class="group doubled"></i>two positions on one host</span>
    </div>
    <div id="volumes"></div>
  </section>
  <section>
    <h2>Recent events</h2>
    <ol id="events"></ol>
  </section>
  <section id="admin">
    <h2>Admin</h2>
    <div class="guest-only">
      <p class="muted" id="admin-hint">Read-only. Paste the admin token (DIR/console-admin-token of <code>radonfs up</code>) to start a rebuild or scrub, or remove a node.</p>
      <input id="token" type="password" placeholder="admin token" size="40" autocomplete="off">
      <button id="sign-in">Sign in</button>
    </div>
    <div class="admin-only">
      <button id="start-rebuild">Start a rebuild</button>
      <button id="start-scrub">Start a scrub</button>
      <button id="sign-out">Sign out</button>
    </div>
    <div id="action-result"></div>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("radonfs-token") || "";
if (location.hash.startsWith("#token=")) {
  token = decodeURIComponent(location.hash.slice(7));
  sessionStorage.setItem("radonfs-token", token);
  history.replaceState(null, "", location.pathname);
}

function bytes(n) {
  const units = ["B", "KB", "MB", "GB", "TB", "PB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
}
function ago(seconds, now) {
  const s = Math.max(0, Math.round(now - seconds));
  if (s < 120) return s + " s ago";
  if (s < 7200) return Math.round(s / 60) + " min ago";
  return Math.round(s / 3600) + " h ago";
}
function clock(t) { return new Date(t * 1000).toLocaleTimeString(); }
function element(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}
function bar(fraction) {
  const outer = element("div", undefined, "bar");
  const inner = element("div");
  inner.style.width = Math.round(Math.min(1, Math.max(0, fraction)) * 100) + "%";
  outer.appendChild(inner);
  return outer;
}

function drawNodes(state) {
  const body = $("nodes");
  body.replaceChildren();
  for (const node of state.nodes) {
    const row = document.createElement("tr");
    row.dataset.nodeId = node.id;
    row.dataset.state = node.state;
    row.appendChild(element("td", node.id));
    row.appendChild(element("td", node.address));
    row.appendChild(element("td", node.host));
    row.appendChild(element("td", node.state, "state state-" + node.state));
    row.appendChild(element("td", ago(node.since, state.takenAt), "muted"));
    row.appendChild(element("td", bytes(node.capacity)));
    const used = element("td");
    used.appendChild(bar(node.capacity ? (node.capacity - node.free) / node.capacity : 0));
    row.appendChild(used);
    row.appendChild(element("td", node.fragments));
    const actions = element("td", undefined, "admin-only");
    const remove = element("button", "remove", "danger");
    remove.addEventListener("click", () => {
      if (confirm("Move every position of node " + node.id + " to other nodes?")) act("/api/nodes/" + node.id + "/remove");
    });
    actions.appendChild(remove);
    row.appendChild(actions);
    body.appendChild(row);
  }
}

function drawVolumes(state) {
  const box = $("volumes");
  box.replaceChildren();
  for (const { settings: volume, protection: p } of state.volumes) {
    const title = element("div");
    title.appendChild(element("b", volume.name + (volume.isDefault ? " (default)" : "")));
    title.appendChild(element("span", "  " + volume.codec + " " + volume.k + "+" + (volume.n - volume.k) + ", blocks of " + bytes(volume.blockSize)
      + " — " + p.groups + " groups: " + p.groupsHealthy + " healthy, " + p.groupsDegraded + " degraded, " + p.groupsUnavailable + " unavailable"
      + (p.groupsDoubledUp ? ", " + p.groupsDoubledUp + " doubled up" : ""), "muted"));
    box.appendChild(title);
    const grid = element("div", undefined, "groups");
    grid.dataset.volumeId = volume.id;
    for (const group of state.groups.filter((g) => g.volumeID === volume.id)) {
      const cell = element("span", undefined, "group " + group.health + (group.isHealing ? " healing" : "") + (group.isDoubledUp ? " doubled" : ""));
      cell.dataset.groupId = group.id;
      cell.dataset.health = group.health;
      cell.title = "group " + group.id + " (index " + group.index + "): nodes " + group.members.join(", ") + "; survives "
        + group.lossesSurvived + " more losses" + (group.isHealing ? "; healing" : "");
      grid.appendChild(cell);
    }
    box.appendChild(grid);
  }
}

function drawHealing(name, healing) {
  const box = $(name);
  const text = $(name + "-text");
  const progress = $(name + "-progress");
  if (!healing) {
    box.dataset.groups = 0; box.dataset.finished = 0;
    progress.value = 0;
    return;
  }
  box.dataset.groups = healing.groups;
  box.dataset.finished = healing.finished;
  progress.value = healing.fraction;
  let sentence = Math.round(healing.fraction * 100) + "% — " + healing.finished + "/" + healing.groups + " groups";
  if (name === "rebuild") sentence += ", " + bytes(healing.bytesWritten) + " written, " + bytes(healing.bytesPerSecond) + "/s";
  else sentence += ", " + bytes(healing.bytesRead) + " read, found " + healing.found + ", fixed " + healing.fixed + ", unrecoverable " + healing.unrecoverable;
  if (!healing.isComplete && healing.remainingSeconds !== null && healing.remainingSeconds !== undefined) sentence += ", about " + Math.ceil(healing.remainingSeconds) + " s left";
  if (healing.isComplete) sentence = "done: " + sentence;
  if (healing.failed) sentence += ", " + healing.failed + " failed";
  text.textContent = sentence;
  text.className = healing.failed || healing.unrecoverable ? "bad" : healing.isComplete ? "ok" : "";
}

function drawEvents(state) {
  const list = $("events");
  list.replaceChildren();
  for (const event of state.events) {
    const item = element("li", undefined, event.isWarning ? "warning" : "");
    item.dataset.kind = event.kind;
    item.appendChild(element("time", clock(event.time)));
    item.appendChild(element("span", event.message));
    list.appendChild(item);
  }
}

function draw(state) {
  document.body.dataset.active = state.isActive;
  const problem = $("problem");
  problem.style.display = state.problem ? "block" : "none";
  problem.textContent = state.problem || "";
  const up = state.nodes.filter((n) => n.state === "up").length;
  document.body.dataset.nodesTotal = state.nodes.length;
  document.body.dataset.nodesUp = up;
  $("nodes-up").textContent = up;
  $("nodes-total").textContent = state.nodes.length;
  const protection = $("protection");
  protection.textContent = state.lossesSurvived < 0 ? "DATA UNREADABLE" : state.isFullyProtected ? "full" : "reduced (" + state.lossesSurvived + " more losses)";
  protection.className = state.lossesSurvived < 0 ? "bad" : state.isFullyProtected ? "" : "warn";
  $("capacity").textContent = bytes(state.rawCapacity);
  $("free").textContent = bytes(state.rawFree);
  $("files").textContent = state.fileCount;
  $("updated").textContent = "updated " + clock(state.takenAt);
  $("protection-text").textContent = state.lossesSurvived < 0 ? "Some data cannot be read now."
    : "Every block survives " + state.lossesSurvived + " more node loss" + (state.lossesSurvived === 1 ? "" : "es") + " now"
      + (state.isFullyProtected ? ": full protection." : ": protection is reduced.");
  const advice = $("advice");
  advice.replaceChildren(...state.advice.map((line) => element("li", line)));
  drawNodes(state);
  drawVolumes(state);
  drawHealing("rebuild", state.rebuild);
  drawHealing("scrub", state.scrub);
  $("pending").textContent = state.pendingRepairs ? state.pendingRepairs + " block fragments queued for repair" : "";
  drawEvents(state);
}

async function poll() {
  try {
    const response = await fetch("/api/state", { cache: "no-store" });
    draw(await response.json());
  } catch (error) {
    const problem = $("problem");
    problem.style.display = "block";
    problem.textContent = "The console does not answer: " + error;
  }
}

async function checkSession() {
  const response = await fetch("/api/session", { headers: token ? { Authorization: "Bearer " + token } : {} });
  const session = await response.json();
  document.body.classList.toggle("admin", session.isAdmin);
  if (!session.canBeAdmin) $("admin-hint").textContent = "Read-only: this metadata service was started without an admin token.";
  if (token && !session.isAdmin) $("action-result").textContent = "That token is not the admin token.";
}

async function act(path) {
  const result = $("action-result");
  result.textContent = "…";
  const response = await fetch(path, { method: "POST", headers: { Authorization: "Bearer " + token } });
  const text = await response.text();
  let message = text;
  try { message = JSON.parse(text).message || (JSON.parse(text).error || {}).message || text; } catch (_) {}
  result.textContent = message;
  result.className = response.ok ? "ok" : "bad";
  poll();
}

$("sign-in").addEventListener("click", () => {
  token = $("token").value.trim();
  sessionStorage.setItem("radonfs-token", token);
  checkSession();
});
$("sign-out").addEventListener("click", () => {
  token = "";
  sessionStorage.removeItem("radonfs-token");
  checkSession();
});
$("start-rebuild").addEventListener("click", () => act("/api/rebuild"));
$("start-scrub").addEventListener("click", () => act("/api/scrub"));
checkSession();
poll();
setInterval(poll, 1000);
</script>
</body>
</html>
"""#
}
