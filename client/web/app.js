// graphsim's web page: questions answered through GraphQL, their graphs drawn with Cytoscape.js
// (vendored, offline). No build step: this file is served as it is.
"use strict";

const server = new URLSearchParams(location.search).get("server") || "";

async function graphql(query, variables = {}) {
  const response = await fetch(server + "/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(body.errors.map(e => e.message).join("; "));
  return body.data;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter(c => c !== null && c !== undefined));
  return node;
}

const $ = id => document.getElementById(id);
const world = () => $("world").value || null;
const list = text => text.split(",").map(s => s.trim()).filter(Boolean);
const shortName = key => key.split("/").pop();

function showError(target, error) {
  target.replaceChildren(el("p", { class: "error", role: "alert" }, error.message || String(error)));
}

// ---- the drawing ------------------------------------------------------------------------------

const GRAPH_FIELDS = `kind title summary truncated
  nodes { id kind label arn effect deciding focus policy statementIndex statement document layer }
  edges { id source target kind provenance effect }`;

// Cytoscape sizes nodes by function, not by the deprecated "label" width: long ARNs wrap.
function lines(ele) {
  const text = String(ele.data("display") || "");
  return text.split("\n").flatMap(line => { const out = []; for (let i = 0; i < line.length; i += 26) out.push(line.slice(i, i + 26)); return out.length ? out : [""]; });
}
function nodeWidth(ele) { return Math.max(56, Math.max(...lines(ele).map(l => l.length)) * 6.4 + 16); }
function nodeHeight(ele) { return lines(ele).length * 14 + 14; }

const STYLE = [
  { selector: "node", style: {
    label: "data(display)", "font-size": 11, "text-wrap": "wrap", "text-max-width": 175, "text-valign": "center", "text-halign": "center",
    shape: "round-rectangle", width: nodeWidth, height: nodeHeight, "background-color": "#eef1f6", "border-width": 1, "border-color": "#99a", color: "#1d2330" } },
  { selector: 'node[kind = "user"], node[kind = "role"]', style: { "background-color": "#dde7fb", shape: "round-rectangle" } },
  { selector: 'node[kind = "group"]', style: { "background-color": "#ece4f8" } },
  { selector: 'node[kind = "resource"]', style: { "background-color": "#fff4d6", shape: "cut-rectangle" } },
  { selector: 'node[kind = "statement"]', style: { shape: "rectangle", "font-size": 10 } },
  { selector: 'node[effect = "ALLOW"]', style: { "background-color": "#dff3e4", "border-color": "#2f8a4a" } },
  { selector: 'node[effect = "DENY"]', style: { "background-color": "#fbe0e0", "border-color": "#b42828" } },
  { selector: 'node[effect = "NOT_MATCHING"]', style: { "background-color": "#f4f4f4", "border-color": "#bbb", color: "#777", "border-style": "dashed" } },
  { selector: "node[?focus]", style: { "border-width": 3, "border-color": "#2a5bd7" } },
  { selector: "node[?deciding]", style: { "border-width": 4, "font-weight": "bold" } },
  { selector: "node:selected", style: { "overlay-opacity": 0.18, "overlay-color": "#f0b400" } },
  { selector: "edge", style: {
    "curve-style": "bezier", "target-arrow-shape": "triangle", width: 1.5, "line-color": "#aab", "target-arrow-color": "#aab",
    label: "data(kind)", "font-size": 9, color: "#667", "text-rotation": "autorotate", "text-background-color": "#fff", "text-background-opacity": 0.85 } },
  { selector: 'edge[effect = "ALLOW"]', style: { "line-color": "#2f8a4a", "target-arrow-color": "#2f8a4a" } },
  { selector: 'edge[effect = "DENY"]', style: { "line-color": "#b42828", "target-arrow-color": "#b42828", width: 2.5 } },
  { selector: 'edge[effect = "NOT_MATCHING"]', style: { "line-style": "dashed" } },
  { selector: 'edge[kind = "can-assume"]', style: { "line-style": "dashed", width: 3, "line-color": "#2a5bd7", "target-arrow-color": "#2a5bd7" } },
];

let cy = null;
let current = null; // the subgraph on screen: {title, nodes, edges} as GraphQL gave them
const nodesById = new Map();

function display(node) {
  if (node.kind !== "statement") return node.label;
  const effect = { ALLOW: "allow", DENY: "deny", NOT_MATCHING: "not matching" }[node.effect] || "";
  return `${node.label}\n${effect}${node.deciding ? " · decides" : ""}`;
}

function elements(graph) {
  return [
    ...graph.nodes.map(n => ({ group: "nodes", data: { ...n, display: display(n) } })),
    ...graph.edges.map(e => ({ group: "edges", data: { ...e } })),
  ];
}

function draw(graph) {
  current = { title: graph.title, nodes: [...graph.nodes], edges: [...graph.edges] };
  nodesById.clear();
  graph.nodes.forEach(n => nodesById.set(n.id, n));
  $("graph-title").textContent = graph.title + (graph.truncated ? " (cut short: expand a node)" : "");
  $("downloads").replaceChildren();
  if (cy) cy.destroy();
  cy = cytoscape({ container: $("graph"), elements: elements(graph), style: STYLE, minZoom: 0.2, maxZoom: 3 });
  cy.on("tap", "node", event => showNode(event.target.id()));
  layout();
  $("detail").replaceChildren();
  window.graphsim.cy = cy;
}

function layout() {
  // Top to bottom: principal, groups, policies, statements, then what they apply to.
  cy.layout({ name: "dagre", rankDir: "TB", nodeSep: 14, rankSep: 46, edgeSep: 6, animate: false }).run();
  cy.fit(undefined, 24);
}

function merge(graph) {
  const added = [];
  for (const n of graph.nodes) {
    if (!nodesById.has(n.id)) { nodesById.set(n.id, n); current.nodes.push(n); added.push({ group: "nodes", data: { ...n, display: display(n) } }); }
  }
  const have = new Set(current.edges.map(e => e.id));
  for (const e of graph.edges) {
    if (!have.has(e.id)) { current.edges.push(e); added.push({ group: "edges", data: { ...e } }); }
  }
  cy.add(added);
  layout();
  return added.length;
}

// A node's details: a policy's JSON, or a statement's policy with the statement marked.
function documentView(documentJson, markIndex) {
  const statements = Array.isArray(documentJson.Statement) ? documentJson.Statement : [documentJson.Statement];
  const head = { ...documentJson };
  delete head.Statement;
  const pre = el("pre", { class: "policy-json" });
  const headText = JSON.stringify(head, null, 2).replace(/\n}$/, "");
  pre.append(headText + (Object.keys(head).length ? ",\n" : "\n") + '  "Statement": [\n');
  statements.forEach((st, i) => {
    const text = JSON.stringify(st, null, 2).split("\n").map(line => "    " + line).join("\n") + (i < statements.length - 1 ? "," : "");
    pre.append(el("span", { class: "stmt" + (i === markIndex ? " marked" : ""), dataset: { index: String(i) } }, text));
  });
  pre.append("  ]\n}");
  return pre;
}

function showNode(id) {
  const node = nodesById.get(id);
  if (!node) return;
  if (cy) { cy.$(":selected").unselect(); cy.getElementById(id).select(); }
  const parts = [el("h3", {}, node.label), el("p", { class: "hint" }, `${node.kind}${node.arn ? " · " + node.arn : ""}`)];
  if (node.kind === "statement") {
    const policy = nodesById.get(node.policy);
    const effect = { ALLOW: "matches and allows", DENY: "matches and denies", NOT_MATCHING: "does not match this request" }[node.effect] || "";
    parts.push(el("p", {}, `This statement ${effect}${node.deciding ? ", and decides the answer" : ""}.`));
    if (policy && policy.document) {
      parts.push(el("p", { class: "hint" }, `in ${policy.label} (the statement is marked):`));
      parts.push(documentView(policy.document, node.statementIndex));
    } else {
      parts.push(el("pre", {}, JSON.stringify(node.statement, null, 2)));
    }
  } else if (node.document) {
    parts.push(documentView(node.document, -1));
  }
  const into = current && current.expandable;
  if (into && ["user", "role", "group", "policy"].includes(node.kind)) {
    parts.push(el("button", { type: "button", id: "expand", onclick: () => expand(id) }, "Expand"));
  }
  $("detail").replaceChildren(...parts);
}

function nodeButtons(nodes) {
  return el("ul", { class: "items node-list" }, ...nodes.map(n =>
    el("li", {}, el("button", { type: "button", class: "link", onclick: () => showNode(n.id) }, (n.policy && nodesById.get(n.policy) ? nodesById.get(n.policy).label + " " : "") + n.label + (n.effect ? ` (${n.effect.toLowerCase().replace("_", " ")}${n.deciding ? ", decides" : ""})` : "")))));
}

function query(path, params) {
  const search = new URLSearchParams(params);
  if (world()) search.set("world", world());
  return `${server}/export/graph/${path}?${search.toString()}`;
}

// ---- Ask: the decision graph -----------------------------------------------------------------

const ASK = `query($p: String!, $a: String!, $r: String!, $w: String) {
  can(principal: $p, action: $a, resource: $r, viaRoles: true, world: $w) {
    decision principal action resource blockedBy explanationLines
    matchedStatements { path layer effect }
    viaRole { roles decision { decision matchedStatements { path layer } } steps { role decision { matchedStatements { path layer } } } }
  }
  decisionGraph(principal: $p, action: $a, resource: $r, viaRoles: true, world: $w) { ${GRAPH_FIELDS} }
}`;

function paths(statements) {
  return statements.map(m => el("span", { class: "path" }, m.path));
}

function verdict(d, label) {
  const out = [];
  const direct = el("p", { class: "verdict-line", id: "verdict-direct" }, "Directly: ", el("span", { class: `badge ${d.decision}`, id: "decision" }, d.decision));
  if (d.decision === "EXPLICIT_DENY") direct.append(" — explicitly denied by (a Deny overrides every Allow):", ...paths(d.matchedStatements));
  else if (d.decision === "ALLOWED") direct.append(" — allowed by:", ...paths(d.matchedStatements));
  else direct.append(` — no statement allows it${d.blockedBy ? ` (blocked by the ${d.blockedBy.toLowerCase()} layer)` : ""}.`);
  out.push(direct);
  const route = d.viaRole;
  let bottom;
  if (route) {
    const roles = route.roles.map(shortName).join(" → ");
    const line = el("p", { class: "verdict-line", id: "verdict-route" }, `Through role ${roles}: `,
      el("span", { class: `badge ${route.decision.decision}`, id: "route-decision" }, route.decision.decision), " — assume the role, allowed by:",
      ...route.steps.flatMap(s => paths(s.decision.matchedStatements)), `then ${d.action}, allowed by:`, ...paths(route.decision.matchedStatements));
    out.push(line);
    bottom = route.decision.decision === "ALLOWED"
      ? `${label} may not ${d.action} directly (${d.decision}), but may by assuming role ${roles}.`
      : `${label} may not ${d.action}, directly or through role ${roles}.`;
  } else {
    bottom = d.decision === "ALLOWED" ? `${label} may ${d.action} on ${d.resource}.` : `${label} may not ${d.action} on ${d.resource} (${d.decision}), and no role it can assume may either.`;
  }
  out.unshift(el("p", { class: "bottom-line", id: "bottom-line" }, bottom));
  out.push(el("details", {}, el("summary", {}, "Explanation"), el("pre", { id: "explanation" }, d.explanationLines.join("\n"))));
  return out;
}

async function ask(principal, action, resource) {
  const target = $("verdict");
  target.replaceChildren(el("p", {}, "Asking…"));
  try {
    const data = await graphql(ASK, { p: principal, a: action, r: resource, w: world() });
    const d = data.can;
    const graph = data.decisionGraph;
    const weight = n => (n.deciding ? 4 : 0) + (n.effect === "DENY" ? 2 : n.effect === "ALLOW" ? 1 : 0);
    const statements = graph.nodes.filter(n => n.kind === "statement").sort((x, y) => weight(y) - weight(x));
    draw(graph);
    target.replaceChildren(...verdict(d, principal), el("h2", {}, "Statements considered"), nodeButtons(statements));
    fixDownloads("decision", { principal, action, resource, viaRoles: "true" });
    const deciding = statements.find(n => n.deciding);
    if (deciding) showNode(deciding.id);
  } catch (error) {
    showError(target, error);
  }
}

function fixDownloads(kind, params) {
  const links = [["graphml", "GraphML"], ["json", "JSON"]].map(([fmt, text]) =>
    el("a", { href: query(`${kind}.${fmt}`, params), download: `${kind}.${fmt}` }, text));
  $("downloads").replaceChildren("download: ", links[0], " · ", links[1]);
}

$("ask-form").addEventListener("submit", event => {
  event.preventDefault();
  const form = new FormData(event.target);
  ask(form.get("principal"), form.get("action"), form.get("resource"));
});
document.querySelectorAll("button.example").forEach(button => button.addEventListener("click", () => {
  const [p, a, r] = button.dataset.q.split("|");
  const form = $("ask-form");
  form.principal.value = p; form.action.value = a; form.resource.value = r;
  ask(p, a, r);
}));

// ---- Who can ------------------------------------------------------------------------------------

const WHO = `query($actions: [String!]!, $r: String!, $w: String) {
  whoCan(actions: $actions, resource: $r, world: $w) { label access action resource viaRoles paths }
  whoCanGraph(actions: $actions, resource: $r, world: $w) { ${GRAPH_FIELDS} }
}`;

$("who-form").addEventListener("submit", async event => {
  event.preventDefault();
  const form = new FormData(event.target);
  const target = $("who-answer");
  const actions = list(form.get("actions"));
  try {
    const data = await graphql(WHO, { actions, r: form.get("resource"), w: world() });
    const resource = data.whoCan.length ? data.whoCan[0].resource : form.get("resource");
    const entries = data.whoCan.map(e => el("li", {}, el("strong", {}, e.label), ` may ${e.action} `,
      e.access === "via-roles" ? `by assuming ${e.viaRoles.map(shortName).join(" → ")}` : e.access === "direct" ? "directly" : "(named by the resource policy)"));
    target.replaceChildren(
      el("h2", { id: "who-question" }, `Who can ${actions.join(", ")} on ${resource}?`),
      data.whoCan.length ? el("ul", { class: "items", id: "who-list" }, ...entries) : el("p", {}, "Nobody."),
    );
    draw(data.whoCanGraph);
    fixDownloads("who-can", { actions: actions.join(","), resource: form.get("resource") });
  } catch (error) {
    showError(target, error);
  }
});

// ---- Explore ------------------------------------------------------------------------------------

const NEIGHBOURHOOD = `query($n: String!, $h: Int!, $w: String) { neighbourhood(node: $n, hops: $h, world: $w) { ${GRAPH_FIELDS} } }`;

async function explore(node, hops) {
  const target = $("explore-answer");
  try {
    const data = await graphql(NEIGHBOURHOOD, { n: node, h: hops, w: world() });
    draw(data.neighbourhood);
    current.expandable = true;
    renderExploreList();
    fixDownloads("neighbourhood", { node, hops: String(hops) });
    const centre = data.neighbourhood.nodes.find(n => n.focus);
    if (centre) showNode(centre.id);
  } catch (error) {
    showError(target, error);
  }
}

function renderExploreList() {
  $("explore-answer").replaceChildren(el("p", { id: "explore-count" }, `${current.nodes.length} nodes, ${current.edges.length} edges`), nodeButtons(current.nodes));
}

async function expand(id) {
  try {
    const data = await graphql(NEIGHBOURHOOD, { n: id, h: 1, w: world() });
    merge(data.neighbourhood);
    renderExploreList();
    showNode(id);
  } catch (error) {
    showError($("explore-answer"), error);
  }
}

$("explore-form").addEventListener("submit", event => {
  event.preventDefault();
  const form = new FormData(event.target);
  explore(form.get("node"), Number(form.get("hops") || 1));
});

// ---- Findings and escalation paths -------------------------------------------------------------

$("findings-load").addEventListener("click", async () => {
  const target = $("findings-list");
  try {
    const data = await graphql(`query($w: String) { findings(world: $w) { rule severity why path principal policy } }`, { w: world() });
    target.replaceChildren(...data.findings.map(f => el("li", {},
      el("strong", {}, `${f.severity} ${f.rule}`), ` ${f.path}: ${f.why} `,
      el("button", { type: "button", class: "link", onclick: () => { selectTab("explore"); $("explore-form").node.value = f.principal || f.policy; explore(f.principal || f.policy, 1); } }, "Open graph"))));
    if (!data.findings.length) target.replaceChildren(el("li", {}, "No findings."));
  } catch (error) {
    showError(target, error);
  }
});

$("escalation-form").addEventListener("submit", async event => {
  event.preventDefault();
  const principal = new FormData(event.target).get("principal");
  const target = $("escalation-list");
  try {
    const data = await graphql(`query($p: String!, $w: String) { escalationPaths(principal: $p, world: $w) { target alreadyAdmin steps { technique explanation } } }`, { p: principal, w: world() });
    const items = data.escalationPaths.map((p, i) => el("li", {},
      p.alreadyAdmin ? `${principal} is already admin-equivalent ` : `to ${p.target}: ${p.steps.map(s => s.technique).join(" → ")} `,
      el("button", { type: "button", class: "link", onclick: () => openEscalation(principal, i) }, "Open graph")));
    target.replaceChildren(...(items.length ? items : [el("li", {}, `No path from ${principal} to admin-equivalent access.`)]));
  } catch (error) {
    showError(target, error);
  }
});

async function openEscalation(principal, index) {
  const data = await graphql(`query($p: String!, $i: Int, $w: String) { escalationGraph(principal: $p, path: $i, world: $w) { ${GRAPH_FIELDS} } }`, { p: principal, i: index, w: world() });
  draw(data.escalationGraph);
  fixDownloads("escalation", { principal, path: String(index) });
}

// ---- Diff of two worlds -----------------------------------------------------------------------

$("diff-form").addEventListener("submit", async event => {
  event.preventDefault();
  const form = new FormData(event.target);
  const target = $("diff-answer");
  try {
    const data = await graphql(`query($a: String!, $b: String!, $actions: [String!]!, $resources: [String!]!) {
      accessDiff(worldA: $a, worldB: $b, actions: $actions, resources: $resources) { principal action resource before after change } }`,
      { a: form.get("a"), b: form.get("b"), actions: list(form.get("actions")), resources: list(form.get("resources")) });
    const rows = data.accessDiff.map(c => el("tr", {}, el("td", { class: c.change }, c.change), el("td", {}, shortName(c.principal)), el("td", {}, c.action),
      el("td", {}, c.resource), el("td", {}, `${c.before} → ${c.after}`)));
    target.replaceChildren(
      el("h2", {}, `From ${form.get("a")} to ${form.get("b")}`),
      rows.length ? el("table", { id: "diff-table" }, el("tr", {}, ...["", "principal", "action", "resource", "decision"].map(h => el("th", {}, h))), ...rows)
        : el("p", {}, "No access gained or lost."));
  } catch (error) {
    showError(target, error);
  }
});

// ---- What if: edit a policy, validate, compare -------------------------------------------------

let policies = [];

function fillVersions() {
  const policy = policies.find(p => p.name === $("whatif-policy").value);
  const versions = policy ? policy.versions : [];
  $("whatif-version").replaceChildren(...versions.map(v => el("option", { value: v.versionId }, v.versionId + (v.isDefault ? " (default)" : ""))));
  const chosen = versions.find(v => v.isDefault) || versions[0];
  if (chosen) $("whatif-version").value = chosen.versionId;
  loadVersion();
}

function loadVersion() {
  const policy = policies.find(p => p.name === $("whatif-policy").value);
  if (!policy) return;
  const version = policy.versions.find(v => v.versionId === $("whatif-version").value);
  $("whatif-document").value = JSON.stringify(version ? version.document : policy.document, null, 2);
  $("whatif-problems").replaceChildren();
  $("whatif-answer").replaceChildren();
}

$("whatif-policy").addEventListener("change", fillVersions);
$("whatif-version").addEventListener("change", loadVersion);

async function checkDocument() {
  const data = await graphql(`query($d: String!) { validatePolicy(document: $d) { valid problems { path rule } warnings { path rule } } }`, { d: $("whatif-document").value });
  const check = data.validatePolicy;
  const items = [...check.problems.map(p => el("li", { class: "problem" }, `${p.path || "(document)"}: ${p.rule}`)),
    ...check.warnings.map(p => el("li", {}, `warning at ${p.path || "(document)"}: ${p.rule}`))];
  $("whatif-problems").replaceChildren(
    el("p", { class: check.valid ? "ok" : "error", id: "whatif-valid" }, check.valid ? "The document is valid." : "The document is not valid:"),
    ...(items.length ? [el("ul", { class: "items", id: "whatif-problem-list" }, ...items)] : []));
  return check.valid;
}

$("whatif-check").addEventListener("click", () => checkDocument().catch(error => showError($("whatif-problems"), error)));

function suggestedQuestions(policy, documents) {
  const holders = policy.attachedTo.filter(h => h.startsWith("user/") || h.startsWith("role/")).map(h => h.split("/").pop());
  const pairs = new Set();
  for (const doc of documents) {
    const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
    for (const st of statements) {
      const actions = [].concat(st.Action || []).filter(a => !a.includes("*"));
      const resources = [].concat(st.Resource || []).map(r => r === "*" ? "*" : r.replace(/\*$/, "example"));
      actions.forEach(a => resources.forEach(r => pairs.add(`${a} ${r}`)));
    }
  }
  return holders.flatMap(h => [...pairs].map(pair => `${h} ${pair}`));
}

$("whatif-form").addEventListener("submit", async event => {
  event.preventDefault();
  const target = $("whatif-answer");
  const policy = policies.find(p => p.name === $("whatif-policy").value);
  try {
    if (!policy) throw new Error("choose a policy first");
    if (!(await checkDocument())) { target.replaceChildren(el("p", { class: "error" }, "Fix the document first.")); return; }
    const edited = JSON.parse($("whatif-document").value);
    let lines = $("whatif-questions").value.split("\n").map(l => l.trim()).filter(Boolean);
    if (!lines.length) {
      lines = suggestedQuestions(policy, [policy.document, edited]);
      $("whatif-questions").value = lines.join("\n");
    }
    const questions = lines.map(line => { const [principal, action, resource] = line.split(/\s+/); return { principal, action, resource }; });
    const data = await graphql(`query($c: [ChangeInput!]!, $q: [QuestionInput!]!, $w: String) {
      whatIf(changes: $c, questions: $q, world: $w) { principal action resource beforeDecision afterDecision changed } }`,
      { c: [{ mutation: "updatePolicy", arguments: { policy: policy.arn || policy.name, document: $("whatif-document").value } }], q: questions, w: world() });
    const rows = data.whatIf.map(r => el("tr", { class: r.changed ? "changed" : "" }, el("td", {}, r.principal), el("td", {}, r.action), el("td", {}, r.resource),
      el("td", {}, el("span", { class: `badge ${r.beforeDecision}` }, r.beforeDecision)), el("td", {}, el("span", { class: `badge ${r.afterDecision}` }, r.afterDecision))));
    const changed = data.whatIf.filter(r => r.changed).length;
    target.replaceChildren(el("p", { id: "whatif-summary" }, `${changed} of ${data.whatIf.length} answers change; nothing was saved.`),
      el("table", { id: "whatif-table" }, el("tr", {}, ...["principal", "action", "resource", "before", "after"].map(h => el("th", {}, h))), ...rows));
  } catch (error) {
    showError(target, error);
  }
});

$("fork-form").addEventListener("submit", async event => {
  event.preventDefault();
  const name = new FormData(event.target).get("name");
  try {
    const data = await graphql(`mutation($s: String!, $n: String!) { forkWorld(source: $s, name: $n) {
      __typename ... on WorldPayload { world { name } } ... on UserError { message } } }`, { s: world() || "default", n: name });
    if (data.forkWorld.__typename !== "WorldPayload") throw new Error(data.forkWorld.message);
    await loadWorlds(data.forkWorld.world.name);
  } catch (error) {
    showError($("whatif-answer"), error);
  }
});

// ---- worlds, tabs, start -------------------------------------------------------------------------

async function loadWorlds(select) {
  const data = await graphql(`{ worlds { name isDefault } }`);
  const names = data.worlds.map(w => w.name);
  $("world").replaceChildren(...names.map(n => el("option", { value: n }, n)));
  $("world").value = select || (data.worlds.find(w => w.isDefault) || data.worlds[0]).name;
  document.querySelectorAll("select.world-choice").forEach((s, i) => {
    s.replaceChildren(...names.map(n => el("option", { value: n }, n)));
    s.value = names[Math.min(i, names.length - 1)];
  });
  await loadWorld();
}

async function loadWorld() {
  // The first page (up to the server's maximum, 500) of each list: names for the search box,
  // and the customer-managed policies the what-if editor may change.
  const data = await graphql(`query($w: String) { world(name: $w) {
    users: usersConnection(first: 500) { nodes { name } } roles: rolesConnection(first: 500) { nodes { name } }
    groups: groupsConnection(first: 500) { nodes { name } } policyNames: policiesConnection(first: 500) { nodes { name } }
    editable: policiesConnection(first: 500, filter: { awsManaged: false }) { nodes { name arn attachedTo document versions { versionId isDefault document } } } } }`,
    { w: world() });
  const w = data.world;
  $("names").replaceChildren(...[w.users, w.roles, w.groups, w.policyNames].flatMap(c => c.nodes).map(x => el("option", { value: x.name })));
  policies = w.editable.nodes;
  const keep = $("whatif-policy").value;
  $("whatif-policy").replaceChildren(...policies.map(p => el("option", { value: p.name }, p.name)));
  if (keep && policies.some(p => p.name === keep)) $("whatif-policy").value = keep;
  fillVersions();
}

$("world").addEventListener("change", () => loadWorld().catch(error => showError($("detail"), error)));

const TABS = ["ask", "who", "explore", "findings", "diff", "whatif"];

function selectTab(name) {
  for (const tab of TABS) {
    $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    $(`view-${tab}`).hidden = tab !== name;
  }
}

TABS.forEach((tab, i) => {
  const button = $(`tab-${tab}`);
  button.addEventListener("click", () => selectTab(tab));
  button.addEventListener("keydown", event => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = TABS[(i + step + TABS.length) % TABS.length];
    selectTab(next);
    $(`tab-${next}`).focus();
  });
});

window.graphsim = { cy: null, ask, explore, selectTab };
window.addEventListener("resize", () => { if (cy) cy.fit(undefined, 24); });

loadWorlds().then(() => {
  const form = $("ask-form");
  return ask(form.principal.value, form.action.value, form.resource.value);
}).catch(error => showError($("verdict"), error));
