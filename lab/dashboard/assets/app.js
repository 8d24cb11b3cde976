// The gatehouse lab dashboard: renders the state the server pushes with
// server-sent events and posts the buttons' actions. No framework, no
// network beyond this origin.
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const stateWord = { A: "allowed", B: "blocked", P: "policy pending", W: "wipe" };
  let state = null, selected = null, charts = null;

  function announce(msg) { $("#announce").textContent = msg; }

  async function post(path, body) {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "same-origin" });
    return r.json();
  }

  async function act(body) {
    announce("working: " + body.kind + " " + (body.op || ""));
    const res = await post("/api/action", body);
    announce(res.ok ? res.message : "failed: " + res.message);
    return res;
  }

  // ---- sign-in: the token comes in the URL fragment (never sent to a
  // server) or is typed in; the server answers with a session cookie.
  async function signIn(token) {
    const res = await post("/api/login", { token: token });
    if (!res.authenticated) { $("#login-error").textContent = res.error || "wrong token"; return false; }
    return true;
  }

  async function boot() {
    const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (m) {
      history.replaceState(null, "", location.pathname);
      await signIn(decodeURIComponent(m[1]));
    }
    const s = await (await fetch("/api/session", { credentials: "same-origin" })).json();
    if (!s.authenticated) {
      $("#login").hidden = false;
      $("#login-form").addEventListener("submit", async (ev) => {
        ev.preventDefault();
        if (await signIn($("#token").value)) { $("#login").hidden = true; start(); }
      });
      return;
    }
    start();
  }

  function start() {
    $("#app").hidden = false;
    wire();
    const es = new EventSource("/api/events");
    es.addEventListener("state", (ev) => { state = JSON.parse(ev.data); render(); });
  }

  // ---- buttons
  function wire() {
    $("#demo-play").addEventListener("click", () => act({ kind: "demo" }));
    $("#demo-step").addEventListener("click", () => act({ kind: "demo", op: "step" }));
    $("#demo-next").addEventListener("click", () => act({ kind: "demo_next" }));
    $("#add-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      act({ kind: "add", user: $("#add-user").value, platform: $("#add-platform").value, class: $("#add-class").value });
    });
    $("#add-fleet").addEventListener("click", () => act({ kind: "fleet" }));
    document.querySelectorAll("button[data-fault]").forEach((b) => b.addEventListener("click", () =>
      act({ kind: "fault", op: b.dataset.fault, on: b.getAttribute("aria-pressed") !== "true" })));
    $("#gw-kill").addEventListener("click", () => act({ kind: "gateway", op: "kill" }));
    $("#gw-start").addEventListener("click", () => act({ kind: "gateway", op: "start" }));
    $("#gw-restart").addEventListener("click", () => act({ kind: "gateway", op: "restart" }));
    $("#attach").addEventListener("click", () => act({ kind: "attachment", on: $("#attach").getAttribute("aria-pressed") !== "true" }));
  }

  function badge(id, on, onText, offText, cls) {
    const b = $(id);
    b.textContent = on ? onText : offText;
    b.className = "badge " + (cls || (on ? "up" : "down"));
  }

  function render() {
    const s = state;
    badge("#gw-status", s.gateway.up, "up", "down");
    $("#gw-status").dataset.up = String(s.gateway.up);
    badge("#uem-status", !s.uem.down, s.uem.drop_notifications ? "up, dropping notifications" : "up", "down");
    badge("#ex-status", !s.exchange.down, "up", "down");
    if (!s.kerberos.enabled) badge("#krb-status", false, "", "not in this lab", "off");
    else badge("#krb-status", s.kerberos.initialised, "ready " + s.kerberos.realm, "not initialised" + (s.kerberos.error ? ": " + s.kerberos.error : ""));
    $("#gw-cached").textContent = String(s.gateway.cached);
    $("#gw-requests").textContent = s.gateway.requests_ok ? String(s.gateway.requests) : "— (the gateway does not answer)";
    $("#gw-detail").textContent = (s.gateway.up ? "up (" + s.gateway.mode + "), sees the UEM as " + (s.gateway.uem_state || "?") + ", fail-open " + (s.gateway.fail_open ? "on" : "off") : "down: " + (s.gateway.error || "")) ;
    setPressed("button[data-fault=uem_down]", s.uem.down);
    setPressed("button[data-fault=exchange_down]", s.exchange.down);
    setPressed("button[data-fault=drop_notifications]", s.uem.drop_notifications);
    setPressed("#attach", s.gateway.attachment_encryption);
    const kill = $("#gw-kill");
    kill.disabled = !s.gateway.can_kill || !s.gateway.up;
    kill.title = s.gateway.can_kill ? "" : "needs gatehouse lab --gateway-subprocess";
    $("#gw-start").disabled = s.gateway.up;
    $("#gw-restart").disabled = !s.gateway.up;
    fillSelect($("#add-user"), s.users.map((u) => [u, u]));
    // Enabled once the first state has filled the user list: a click
    // before it would add a device for no user.
    $("#add-form button[type=submit]").disabled = !s.users.length;
    $("#add-fleet").disabled = !s.users.length;
    list($("#servers"), (s.servers || []).map((v) => v.service + " " + v.address + ": " + (v.live ? "live" : "dead")));
    list($("#notes"), s.notes || []);
    renderDevices(s);
    renderTunnels(s.tunnels || []);
    renderDemo(s.demo);
    renderTimeline(s);
    renderCharts(s.chart);
  }

  function setPressed(sel, on) { $(sel).setAttribute("aria-pressed", String(!!on)); }

  function list(ol, items) {
    const key = items.join("\n");
    if (ol.dataset.key === key) return;
    ol.dataset.key = key;
    ol.replaceChildren(...items.map((t) => el("li", {}, t)));
  }

  function fillSelect(sel, opts) {
    const key = opts.map((o) => o[0]).join(",");
    if (sel.dataset.key === key) return;
    const v = sel.value;
    sel.dataset.key = key;
    sel.replaceChildren(...opts.map(([val, text]) => { const o = el("option", { value: val }, text); return o; }));
    if (v) sel.value = v;
  }

  function stateCell(td, letter) {
    const l = letter || "";
    if (td.dataset.state === l) return;
    td.dataset.state = l;
    td.replaceChildren(el("span", { class: "st st-" + (l || "none") }, l ? l + " " + stateWord[l] : "— none"));
  }

  // Rows are kept and updated in place, so that focus and a chosen
  // policy survive the updates.
  function renderDevices(s) {
    const tbody = $("#device-rows");
    const seen = new Set();
    if (s.devices.length) tbody.querySelector("tr.empty")?.remove();
    for (const d of s.devices) {
      const key = d.id + "/" + d.user;
      seen.add(key);
      let tr = tbody.querySelector('tr[data-key="' + CSS.escape(key) + '"]');
      if (!tr) { tr = newRow(d, key, s.policies); tbody.appendChild(tr); }
      const c = tr.children;
      c[2].textContent = [d.platform, d.class, d.version && "EAS " + d.version].filter(Boolean).join(", ") || "—";
      stateCell(c[3], d.uem_state);
      stateCell(c[4], d.gw_state);
      c[5].textContent = d.policy || "default";
      const last = d.timeline && d.timeline[d.timeline.length - 1];
      c[6].textContent = last ? describe(last) : "—";
      const differ = d.uem_state && d.gw_state && d.uem_state !== d.gw_state && d.gw_state !== "P";
      tr.classList.toggle("diff", !!differ);
      tr.title = differ ? "the UEM and the gateway's cache differ" : "";
      tr.querySelectorAll("td.acts button[data-op]").forEach((b) => { b.disabled = !d.assoc; });
    }
    tbody.querySelectorAll("tr[data-key]").forEach((tr) => { if (!seen.has(tr.dataset.key)) tr.remove(); });
  }

  const tunnelWord = { allow: "allowed", block: "blocked" };

  // One row per (device, user, app), updated in place like the devices.
  function renderTunnels(ts) {
    const tbody = $("#tunnel-rows");
    const seen = new Set();
    if (ts.length) tbody.querySelector("tr.empty")?.remove();
    for (const t of ts) {
      const key = t.device + "/" + t.user + "/" + t.app;
      seen.add(key);
      let tr = tbody.querySelector('tr[data-key="' + CSS.escape(key) + '"]');
      if (!tr) {
        tr = el("tr", { "data-key": key, "data-device": t.device, "data-user": t.user, "data-app": t.app });
        tr.append(el("th", { scope: "row" }, t.device), el("td", {}, t.user), el("td", {}, t.app), el("td", { class: "svc" }),
          el("td", { class: "uem" }), el("td", { class: "gw" }), el("td", { class: "val" }), el("td", { class: "conns" }));
        tbody.appendChild(tr);
      }
      const c = tr.children;
      c[3].textContent = [t.service, t.version].filter(Boolean).join(", ") || "—";
      const u = t.uem_state || "";
      if (c[4].dataset.state !== u || c[4].dataset.reason !== (t.reason || "")) {
        c[4].dataset.state = u;
        c[4].dataset.reason = t.reason || "";
        const letter = u === "allow" ? "A" : u === "block" ? "B" : "none";
        c[4].replaceChildren(el("span", { class: "st st-" + letter }, u ? (tunnelWord[u] || u) + (t.reason ? " (" + t.reason + ")" : "") : "— not listed"));
      }
      stateCell(c[5], t.gw_state);
      c[6].textContent = t.validated === "Y" ? "yes" : t.validated === "N" ? "no (fail-open)" : "—";
      c[7].textContent = t.gw_state ? String(t.connections) : "—";
      const differ = u && t.gw_state && (u === "allow") !== (t.gw_state === "A");
      tr.classList.toggle("diff", !!differ);
      tr.title = differ ? "the UEM and the gateway's cache differ" : "";
    }
    tbody.querySelectorAll("tr[data-key]").forEach((tr) => { if (!seen.has(tr.dataset.key)) tr.remove(); });
  }

  function newRow(d, key, policies) {
    const tr = el("tr", { "data-key": key, "data-device": d.id, "data-user": d.user });
    const name = el("button", { type: "button", class: "devname", "aria-label": d.id + ": show its exchanges" }, d.id);
    name.addEventListener("click", () => { selected = { id: d.id, user: d.user }; renderTimeline(state); $("#timeline-h").scrollIntoView({ block: "nearest" }); });
    const th = el("th", { scope: "row" }); th.append(name);
    tr.append(th, el("td", {}, d.user), el("td", { class: "plat" }), el("td", { class: "uem" }), el("td", { class: "gw" }), el("td", { class: "policy" }), el("td", { class: "last" }));
    const acts = el("td", { class: "acts" });
    const row1 = el("div", { class: "row" }), row2 = el("div", { class: "row" });
    for (const op of ["allow", "block", "wipe", "remove"]) {
      const b = el("button", { type: "button", "data-op": op, "aria-label": op + " " + d.id + " of " + d.user }, op[0].toUpperCase() + op.slice(1));
      b.addEventListener("click", () => act({ kind: "uem", op: op, device: d.id, user: d.user }));
      row1.append(b);
    }
    const sel = el("select", { "aria-label": "policy for " + d.id });
    sel.append(...(policies || []).map((p) => el("option", { value: p.id }, p.name)));
    const assign = el("button", { type: "button", "data-op": "assign_policy", "aria-label": "assign the chosen policy to " + d.id }, "Assign policy");
    assign.addEventListener("click", () => act({ kind: "uem", op: "assign_policy", device: d.id, user: d.user, policy: sel.value }));
    row2.append(sel, assign);
    acts.append(row1, row2);
    tr.append(acts);
    return tr;
  }

  function describe(x) {
    if (!x.http) return x.cmd + " failed: " + (x.err || "no answer");
    return x.cmd + " HTTP " + x.http + (x.status ? " Status " + x.status : "") + " " + x.ms.toFixed(0) + " ms";
  }

  function renderTimeline(s) {
    if (!selected) return;
    const d = s.devices.find((r) => r.id === selected.id && r.user === selected.user);
    $("#tl-device").textContent = selected.id + " (" + selected.user + ")";
    const xs = (d && d.timeline) || [];
    const ol = $("#tl-list");
    const key = xs.map((x) => x.seq).join(",");
    if (ol.dataset.key === key) return;
    ol.dataset.key = key;
    ol.replaceChildren(...xs.map((x) => {
      const bad = !x.http || x.http >= 400 || (x.status && x.status !== 1);
      const b = el("button", { type: "button", class: bad ? "bad" : "", "aria-label": "decode exchange " + x.seq + ": " + describe(x) },
        new Date(x.at).toLocaleTimeString() + " " + describe(x));
      b.addEventListener("click", () => showXML(x.seq));
      const li = el("li"); li.append(b); return li;
    }));
  }

  async function showXML(seq) {
    const r = await fetch("/api/exchange/" + seq, { credentials: "same-origin" });
    const x = await r.json();
    $("#xml").hidden = false;
    $("#xml-req").textContent = x.request_xml || x.error || "";
    $("#xml-rsp").textContent = x.response_xml || "";
  }

  function renderDemo(d) {
    const ol = $("#demo-steps");
    const b = $("#demo-play");
    b.disabled = d.started;
    $("#demo-step").disabled = d.started;
    $("#demo-next").disabled = !d.waiting;
    b.textContent = d.waiting ? "Paused: press Next step" : d.running ? "Playing…" : d.started ? (d.error ? "Demo failed" : "Demo played") : "▶ Play the demo";
    const key = JSON.stringify(d.steps);
    if (ol.dataset.key === key) return;
    ol.dataset.key = key;
    ol.replaceChildren(...d.steps.map((st, i) => {
      const li = el("li", { "data-status": st.status, "data-step": String(i + 1) });
      const h = el("div");
      h.append(el("strong", {}, st.title + " "), el("span", { class: "status" }, "[" + st.status + "]"));
      li.append(h, el("p", { class: "explain" }, st.explain));
      if (st.lines && st.lines.length) {
        const out = el("ul", { class: "outcome" });
        out.append(...st.lines.map((t) => el("li", {}, t)));
        li.append(out);
      }
      return li;
    }));
    if (d.error) announce("demo failed: " + d.error);
  }

  function renderCharts(c) {
    if (!c || !c.t || c.t.length < 2 || typeof uPlot === "undefined") return;
    const w = Math.max(240, Math.min(420, Math.floor(($("#charts").clientWidth - 40) / 3)));
    const mk = (id, series, data) => new uPlot({ width: w, height: 140, legend: { show: false },
      series: [{}, ...series], axes: [{}, { size: 50 }] }, [c.t, ...data], $(id));
    const line = (label, stroke, dash) => ({ label: label, stroke: stroke, width: 2, dash: dash });
    const gw = c.gw_rate || c.t.map(() => 0);
    if (!charts) {
      charts = [mk("#c-rate", [line("all devices/s", "#0b4f9c"), line("lab devices/s", "#6b2a7a", [4, 3])], [gw, c.rate]),
        mk("#c-lat", [line("ms", "#8a3b00")], [c.latency_ms]), mk("#c-cache", [line("entries", "#0a3d16")], [c.cache])];
      return;
    }
    charts[0].setData([c.t, gw, c.rate]); charts[1].setData([c.t, c.latency_ms]); charts[2].setData([c.t, c.cache]);
  }

  boot();
})();
