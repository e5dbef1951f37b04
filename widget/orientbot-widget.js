/*!
 * Orientation Bot — la fenêtre de discussion que l'ENT d'un établissement intègre avec une seule balise :
 *
 *   <script src="https://BOT-HOST/webhooks/chat/widget/orientbot-widget.js" defer
 *           data-bot-url="https://BOT-HOST" data-audience="eleve" data-school="0751234A"
 *           data-school-name="Lycée Jean Jaurès" data-color="#1d4ed8"></script>
 *
 * data-school : le code UAI de l'établissement (7 chiffres et une lettre). Le bot l'inscrit dans l'identifiant
 * signé de la conversation, et ses tickets ne vont qu'aux conseillers de cet établissement. Un nom
 * (ancienne forme, data-school="Lycée Jean Jaurès") est seulement affiché, comme data-school-name.
 *
 * Sans dépendance ni étape de construction. Tout vit dans un Shadow DOM : la CSS de l'ENT ne peut pas
 * casser la fenêtre, et la fenêtre ne touche pas à la page. Aucune requête vers un tiers, aucun cookie
 * (fetch en credentials:"omit"), et rien n'est écrit avant que la personne ouvre la fenêtre.
 * La conversation est gardée pour la session du navigateur seulement (sessionStorage) : sur un poste
 * partagé, l'élève suivant ne la voit pas. data-keep-minutes="N" (au plus 240) la garde N minutes après
 * le dernier échange (localStorage), sans jamais la rouvrir d'elle-même dans une nouvelle session.
 * Le texte des messages n'est jamais interprété comme du HTML (textContent / createElement).
 *
 * API du bot (bot/channels/chat.py) : POST start (identifiant et jeton de la conversation), POST message,
 * GET history, GET events (long polling), POST feedback, POST contact, POST erase ; le jeton voyage dans
 * l'en-tête X-Orientbot-Token, jamais dans une URL — voir README.md, « Fenêtre de discussion (ENT) ».
 */
(function () {
  "use strict";
  if (window.__orientbotWidget) return; // la balise collée deux fois ne crée qu'une fenêtre
  window.__orientbotWidget = true;

  var script = document.currentScript || document.querySelector('script[src*="orientbot-widget.js"]');
  var data = (script && script.dataset) || {};
  var DEFAULT_COLOR = "#1d4ed8";
  var config = {
    botUrl: (data.botUrl || (script && script.src ? new URL(script.src, location.href).origin : location.origin)).replace(/\/+$/, ""),
    audience: data.audience === "parent" ? "parent" : "eleve",
    // Le nom affiché dans l'en-tête ; le code UAI, lui, part avec POST /start.
    school: isUai(data.school) ? (data.schoolName || "") : (data.schoolName || data.school || ""),
    schoolCode: isUai(data.school) ? data.school.trim().toUpperCase() : "",
    color: accessibleColor(data.color || DEFAULT_COLOR),
    // 0 (par défaut) : la session du navigateur seulement.
    keepMinutes: Math.min(Math.max(parseInt(data.keepMinutes, 10) || 0, 0), 240)
  };
  var API = config.botUrl + "/webhooks/chat";
  var STORE_KEY = "orientbot:" + config.audience; // élève et parent sur le même ENT : deux conversations
  var TAB_KEY = STORE_KEY + ":session"; // avec data-keep-minutes : marque la session qui a ouvert la fenêtre
  var TOKEN_HEADER = "X-Orientbot-Token";
  // Les numéros d'urgence : le serveur qui sert ce fichier y écrit la liste de orientbot/emergency.py (une seule source).
  var EMERGENCY = /*ORIENTBOT_EMERGENCY*/[];

  // ---- Textes : tutoiement pour les élèves, vouvoiement pour les familles ------------------------
  var T = {
    eleve: {
      launcher: "Une question d'orientation ?",
      title: "Orientation",
      welcome: "Bonjour ! Je réponds à tes questions d'orientation (Parcoursup, Affelnet, apprentissage, bac pro, bourses…) avec les sources officielles. Si ma réponse ne suffit pas, un conseiller ou une conseillère d'orientation peut prendre le relais.",
      privacy: "N'écris pas ton nom, ton adresse ni ton numéro de téléphone.",
      inputLabel: "Ta question",
      placeholder: "Écris ta question…",
      me: "Toi",
      askCounsellor: "Je voudrais parler à un conseiller",
      helpful: "Cette réponse t'a aidé ?",
      thanks: "Merci pour ton avis !",
      waiting: function (n) {
        return "Un conseiller va te répondre… (" + (n > 0 ? n + (n > 1 ? " personnes" : " personne") + " avant toi" : "tu es le prochain ou la prochaine") + ")";
      },
      contactLegend: "Comment veux-tu recevoir la réponse ?",
      contactEnt: "Dans ma messagerie de l'ENT",
      emailLabel: "Ton adresse e-mail",
      consent: "J'accepte que mon adresse e-mail serve uniquement à m'envoyer cette réponse.",
      contactSaved: { ent: "La réponse arrivera dans ta messagerie de l'ENT.", email: "La réponse arrivera par e-mail." },
      pickupCode: "Ton code de réponse :",
      pickupNote: "Note-le : il permet de lire la réponse sans donner d'adresse.",
      contactOther: function (code) { return "Tu peux aussi lire la réponse sans adresse, avec ton code " + code + " (lien « " + COMMON.pickupLink + " » dans la conversation)."; },
      eraseConfirm: "Effacer toute la conversation ? Tes messages et les réponses seront supprimés du serveur et tu ne pourras plus les relire. Si tu as demandé à parler à un conseiller, le service garde seulement la date, le motif et le thème de ta demande, sans tes messages : cela lui sert à savoir combien de demandes il reçoit et s'il y répond à temps.",
      tooFast: "Tu envoies beaucoup de messages en peu de temps : ton message partira tout seul dans quelques instants.",
      offlineBody: "Tes messages sont gardés et partiront dès que la connexion reviendra. Tu peux aussi :",
      offlineWays: [
        "voir le ou la psy-EN (psychologue de l'Éducation nationale) de ton lycée : rendez-vous à la vie scolaire ou au CDI ;",
        "contacter le CIO (centre d'information et d'orientation) de ton secteur ;"
      ],
      stored: "Ton message est bien enregistré, mais le bot ne peut pas répondre pour l'instant : il te répondra dès qu'il sera revenu. En attendant, tu peux aussi :",
      urgentTitle: "Besoin d'aide tout de suite ? Appelle, c'est gratuit :",
      urgentNote: "Ta demande est traitée en priorité.",
      unread: function (n) { return n + (n > 1 ? " nouveaux messages" : " nouveau message"); }
    },
    parent: {
      launcher: "Une question sur l'orientation de votre enfant ?",
      title: "Orientation",
      welcome: "Bonjour ! Je réponds à vos questions sur l'orientation de votre enfant (Parcoursup, Affelnet, apprentissage, bac pro, bourses…) avec les sources officielles. Si ma réponse ne suffit pas, un conseiller ou une conseillère d'orientation peut prendre le relais.",
      privacy: "N'indiquez ni nom, ni adresse, ni numéro de téléphone.",
      inputLabel: "Votre question",
      placeholder: "Écrivez votre question…",
      me: "Vous",
      askCounsellor: "Je voudrais parler à un conseiller",
      helpful: "Cette réponse vous a-t-elle aidé ?",
      thanks: "Merci pour votre avis !",
      waiting: function (n) {
        return "Un conseiller va vous répondre… (" + (n > 0 ? n + (n > 1 ? " personnes" : " personne") + " avant vous" : "vous êtes le prochain") + ")";
      },
      contactLegend: "Comment souhaitez-vous recevoir la réponse ?",
      contactEnt: "Dans ma messagerie de l'ENT",
      emailLabel: "Votre adresse e-mail",
      consent: "J'accepte que mon adresse e-mail serve uniquement à m'envoyer cette réponse.",
      contactSaved: { ent: "La réponse arrivera dans votre messagerie de l'ENT.", email: "La réponse arrivera par e-mail." },
      pickupCode: "Votre code de réponse :",
      pickupNote: "Notez-le : il permet de lire la réponse sans laisser d'adresse.",
      contactOther: function (code) { return "Vous pouvez aussi lire la réponse sans adresse, avec votre code " + code + " (lien « " + COMMON.pickupLink + " » dans la conversation)."; },
      eraseConfirm: "Effacer toute la conversation ? Vos messages et les réponses seront supprimés du serveur et vous ne pourrez plus les relire. Si vous avez demandé à parler à un conseiller, le service garde seulement la date, le motif et le thème de votre demande, sans vos messages : cela lui sert à savoir combien de demandes il reçoit et s'il y répond à temps.",
      tooFast: "Vous envoyez beaucoup de messages en peu de temps : votre message partira de lui-même dans quelques instants.",
      offlineBody: "Vos messages sont gardés et partiront dès que la connexion reviendra. Vous pouvez aussi :",
      offlineWays: [
        "demander un rendez-vous avec le ou la psy-EN (psychologue de l'Éducation nationale) de l'établissement, auprès du secrétariat ;",
        "contacter le CIO (centre d'information et d'orientation) de votre secteur ;"
      ],
      stored: "Votre message est bien enregistré, mais le bot ne peut pas répondre pour l'instant : il vous répondra dès qu'il sera revenu. En attendant, vous pouvez aussi :",
      urgentTitle: "Besoin d'aide tout de suite ? Appelez, c'est gratuit :",
      urgentNote: "Votre demande est traitée en priorité.",
      unread: function (n) { return n + (n > 1 ? " nouveaux messages" : " nouveau message"); }
    }
  }[config.audience];
  var COMMON = {
    bot: "Orientation Bot",
    counsellor: "Conseiller·ère d'orientation",
    send: "Envoyer",
    talk: "Parler à un conseiller",
    erase: "Effacer la conversation",
    eraseYes: "Oui, effacer",
    cancel: "Annuler",
    close: "Fermer la fenêtre de discussion",
    typing: "Le bot écrit…",
    sources: "Sources :",
    up: "Utile",
    down: "Pas utile",
    joined: "Un conseiller a rejoint la conversation.",
    deferred: "Demande transmise : réponse attendue ",
    deferredNoDate: "Demande transmise : un conseiller répondra dès que possible.",
    email: "Par e-mail",
    contactSubmit: "Valider",
    contactChange: "Modifier",
    pickupLink: "Lire la réponse avec ce code",
    handedBack: "Le conseiller a rendu la main au bot.",
    offlineTitle: "Le service ne répond pas pour le moment.",
    offlineUrgent: "en cas d'urgence : " + EMERGENCY.map(function (line) { return line.number; }).join(", ") + ".",
    pending: "En attente d'envoi…",
    failed: "Message non envoyé : ",
    eraseFailed: "La conversation n'a pas pu être effacée (service injoignable). Réessayez plus tard.",
    feedbackFailed: "Avis non enregistré, réessayez plus tard.",
    dialog: "Discussion orientation"
  };

  // ---- Couleur d'accent : contraste AA (4,5:1) avec du texte blanc, sinon on l'assombrit ----------
  function parseHex(value) {
    var m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(value).trim());
    if (!m) return null;
    var h = m[1].length === 3 ? m[1].replace(/./g, "$&$&") : m[1];
    return [0, 2, 4].map(function (i) { return parseInt(h.substr(i, 2), 16); });
  }
  function luminance(rgb) {
    var c = rgb.map(function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  // Un code UAI d'établissement : 7 chiffres et une lettre (le bot le vérifie de nouveau, orientbot/schools.py).
  function isUai(value) { return typeof value === "string" && /^[0-9]{7}[A-Za-z]$/.test(value.trim()); }
  function contrastWithWhite(rgb) { return 1.05 / (luminance(rgb) + 0.05); }
  function accessibleColor(value) {
    var rgb = parseHex(value) || parseHex(DEFAULT_COLOR);
    // 4.6 plutôt que 4.5 : une marge contre les arrondis des outils de mesure.
    while (contrastWithWhite(rgb) < 4.6) rgb = rgb.map(function (v) { return Math.floor(v * 0.92); });
    return "#" + rgb.map(function (v) { return ("0" + v.toString(16)).slice(-2); }).join("");
  }

  // ---- Persistance : la session du navigateur (ou quelques minutes), rien avant la première ouverture,
  // jamais de cookie. L'identifiant et le jeton de la conversation viennent du bot (POST /start).
  var saved = readStore();
  var touched = !!saved; // la fenêtre a été ouverte : à partir de là seulement, on écrit
  var conv = {
    sender: saved && saved.sender,
    token: saved && saved.token,
    lastId: (saved && saved.lastId) || 0,
    outbox: (saved && saved.outbox) || [],
    votes: (saved && saved.votes) || {},
    open: !!(saved && saved.open)
  };
  function store() { return config.keepMinutes ? localStorage : sessionStorage; }
  function readStore() {
    try {
      // Les versions d'avant gardaient la conversation sans limite dans localStorage : sur un poste partagé,
      // l'élève suivant la retrouvait. On l'efface (removeItem n'écrit rien s'il n'y a rien).
      if (!config.keepMinutes) localStorage.removeItem(STORE_KEY);
      var value = JSON.parse(store().getItem(STORE_KEY) || "null");
      if (!value) return null;
      if (!value.sender || !value.token) value.sender = value.token = null; // sans jeton : une nouvelle conversation
      if (config.keepMinutes) {
        if (!(value.expires > Date.now())) { localStorage.removeItem(STORE_KEY); return null; }
        if (!sessionStorage.getItem(TAB_KEY)) value.open = false; // nouvelle session : jamais rouverte d'elle-même
      }
      return value;
    } catch (e) { return null; }
  }
  function persist() {
    if (!touched) return; // pas encore ouverte : rien n'est écrit
    var value = { sender: conv.sender, token: conv.token, lastId: conv.lastId, outbox: conv.outbox, votes: conv.votes, open: conv.open };
    try {
      if (config.keepMinutes) {
        value.expires = Date.now() + config.keepMinutes * 60000;
        sessionStorage.setItem(TAB_KEY, "1");
      }
      store().setItem(STORE_KEY, JSON.stringify(value));
    } catch (e) { /* navigation privée pleine : la conversation vit au moins le temps de la page */ }
  }
  function randomId(prefix) {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // disponible même hors HTTPS, contrairement à randomUUID
    return prefix + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // ---- Styles (dans le Shadow DOM) ----------------------------------------------------------------
  var CSS = [
    // :host !important l'emporte sur les !important de la page (contexte de l'ombre) : rien n'hérite de l'ENT.
    ":host{all:initial !important;display:block !important;position:static !important}",
    ".root{--accent:" + config.color + ";font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Ubuntu,'Noto Sans',Arial,sans-serif;color:#1f2937;letter-spacing:normal;text-align:left;text-transform:none}",
    ".root *,.root *::before,.root *::after{box-sizing:border-box}",
    "button,input,textarea{font:inherit;color:inherit;margin:0}",
    "button{cursor:pointer}",
    ".sr{position:absolute !important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}",
    ":focus-visible{outline:3px solid #f59e0b;outline-offset:2px}",
    ".launcher{position:fixed;right:16px;bottom:16px;z-index:2147483000;display:flex;align-items:center;gap:.5em;max-width:calc(100vw - 32px);padding:.75em 1.1em;border:2px solid #fff;border-radius:999px;background:var(--accent);color:#fff;font-weight:600;box-shadow:0 4px 14px rgba(0,0,0,.3)}",
    ".launcher:focus-visible{outline:3px solid #1f2937;outline-offset:3px;box-shadow:0 0 0 6px #f59e0b}",
    ".badge{min-width:1.5em;padding:0 .4em;border-radius:999px;background:#b91c1c;color:#fff;font-size:.85em;text-align:center}",
    ".panel{position:fixed;z-index:2147483001;inset:0;display:flex;flex-direction:column;background:#fff;color:#1f2937}",
    ".panel[hidden]{display:none}",
    "@media (min-width:600px) and (min-height:560px){.panel{inset:auto 16px 88px auto;width:400px;height:min(660px,calc(100vh - 110px));border:1px solid #9ca3af;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.3);overflow:hidden}}",
    "@media (max-width:599.98px),(max-height:559.98px){.root.is-open .launcher{display:none}}",
    ".head{display:flex;align-items:center;gap:.5em;padding:.45em .6em .45em .9em;background:var(--accent);color:#fff}",
    ".head .titles{flex:1;min-width:0}",
    "h2{margin:0;font-size:1.05em;font-weight:700;line-height:1.3}",
    ".head p{margin:0;font-size:.85em;overflow-wrap:anywhere}",
    ".hbtn{flex:none;display:inline-flex;align-items:center;justify-content:center;width:44px;height:44px;padding:0;border:2px solid rgba(255,255,255,.85);border-radius:8px;background:transparent;color:#fff}",
    ".hbtn .icon{width:26px;height:26px}",
    ".icon{display:inline-block;width:1.2em;height:1.2em;vertical-align:-.22em;flex:none}",
    ".foot{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:0 .6em}",
    ".linkbtn{min-height:32px;padding:.2em 0;border:0;background:none;color:#374151;font-size:.8em;text-decoration:underline}",
    ".hbtn:hover{background:rgba(0,0,0,.2)}",
    ".head :focus-visible{outline:3px solid #fff;outline-offset:1px;box-shadow:0 0 0 5px #1f2937}",
    ".bar{padding:.55em .8em;border-bottom:1px solid #d1d5db;background:#eff6ff;font-size:.92em}",
    ".bar[hidden],.urgent[hidden],.offline[hidden],.confirm[hidden],.typing[hidden]{display:none}",
    ".urgent{padding:.55em .8em;background:#fef2f2;border-bottom:2px solid #b91c1c;color:#7f1d1d;font-size:.9em}",
    ".urgent p{margin:0 0 .25em;font-weight:700}",
    ".offline ul,.ways{margin:0;padding-left:1.2em}",
    ".msg.system .ways{font-style:normal;text-align:left}",
    ".urgent ul{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:0 .8em;margin:0;padding:0;list-style:none}",
    ".urgent li:last-child{grid-column:1/-1}",
    ".urgent a{color:#7f1d1d;font-weight:700}",
    ".offline{padding:.55em .8em;background:#fffbeb;border-bottom:2px solid #b45309;color:#451a03;font-size:.9em}",
    ".offline p{margin:0 0 .25em}",
    ".offline a{color:#451a03;font-weight:700}",
    ".confirm{padding:.7em .8em;background:#f3f4f6;border-bottom:1px solid #9ca3af}",
    ".confirm p{margin:0 0 .5em;font-weight:600}",
    ".row{display:flex;flex-wrap:wrap;gap:.5em}",
    ".btn{min-height:44px;padding:.45em .9em;border:2px solid var(--accent);border-radius:8px;background:#fff;color:var(--accent);font-weight:600}",
    ".btn.primary{background:var(--accent);color:#fff}",
    ".btn.danger{border-color:#b91c1c;background:#b91c1c;color:#fff}",
    ".btn:hover{text-decoration:underline}",
    ".btn[disabled]{opacity:.6;cursor:default}",
    "fieldset{margin:.5em 0 0;padding:.4em .6em .6em;border:1px solid #9ca3af;border-radius:8px;background:#fff}",
    "legend{padding:0 .3em;font-weight:600}",
    "summary{min-height:32px;padding:.3em 0;cursor:pointer;font-weight:600;text-decoration:underline}",
    ".field{display:flex;align-items:flex-start;gap:.4em;margin:.3em 0}",
    ".field input[type=radio],.field input[type=checkbox]{width:1.2em;height:1.2em;margin-top:.15em;accent-color:var(--accent);flex:none}",
    ".email{display:block;margin:.3em 0}",
    ".email input{display:block;width:100%;min-height:44px;margin-top:.2em;padding:.4em .5em;border:2px solid #6b7280;border-radius:6px;background:#fff}",
    ".error{margin:.3em 0 0;color:#b91c1c;font-weight:600}",
    ".pickup{margin-top:.4em;padding:.45em .65em;border:2px dashed var(--accent);border-radius:8px;background:#fff;font-size:.9em}",
    ".pickup p{margin:0 0 .2em}",
    ".pickup .code{font-family:ui-monospace,Consolas,monospace;font-size:1.15em;letter-spacing:.08em;white-space:nowrap}",
    ".pickup a{display:inline-block;min-height:32px;padding:.2em 0;color:var(--accent);text-decoration:underline;font-weight:600}",
    ".log{position:relative;flex:1;min-height:6em;overflow-y:auto;padding:.75em;background:#f3f4f6;overscroll-behavior:contain}",
    ".msg{display:flex;flex-direction:column;max-width:88%;margin:0 0 .7em}",
    ".msg.user{margin-left:auto;align-items:flex-end}",
    ".msg.system{max-width:100%;align-items:center;color:#374151;font-size:.9em;font-style:italic;text-align:center}",
    ".who{margin:0 0 .15em;font-size:.8em;font-weight:700;color:#374151}",
    ".bubble{padding:.55em .75em;border:1px solid #d1d5db;border-radius:12px;background:#fff;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".user .bubble{border-color:var(--accent);background:var(--accent);color:#fff}",
    ".user .bubble a{color:#fff}",
    ".counsellor .bubble{border:2px solid #7c2d12;background:#fff7ed}",
    ".counsellor .who{color:#7c2d12}",
    ".pending .bubble{opacity:.75;border-style:dashed}",
    ".note{margin:.2em 0 0;font-size:.8em;color:#374151}",
    ".note.err{color:#b91c1c;font-weight:600}",
    ".bubble a,.sources a{color:var(--accent);text-decoration:underline}",
    ".sources{margin:.35em 0 0;padding:0;list-style:none;font-size:.85em}",
    ".sources li{overflow-wrap:anywhere}",
    ".choices{display:flex;flex-direction:column;align-items:flex-start;gap:.35em;margin-top:.45em}",
    ".choices .btn{text-align:left;font-weight:500;padding:.35em .7em}",
    ".fb{display:flex;align-items:center;flex-wrap:wrap;gap:.3em .4em;margin-top:.3em;font-size:.85em;color:#374151}",
    ".fb>span:first-child{flex-basis:100%}",
    ".fb button{min-height:36px;padding:.2em .6em;border:1px solid #6b7280;border-radius:8px;background:#fff;color:#1f2937}",
    ".fb button[aria-pressed=true]{border:2px solid var(--accent);background:#dbeafe}",
    ".typing{padding:0 .9em .3em;background:#f3f4f6;font-size:.85em;color:#374151}",
    ".dots span{display:inline-block;width:.45em;height:.45em;margin-right:.2em;border-radius:50%;background:#4b5563;animation:ob-blink 1.2s infinite ease-in-out}",
    ".dots span:nth-child(2){animation-delay:.2s}.dots span:nth-child(3){animation-delay:.4s}",
    "@keyframes ob-blink{0%,80%,100%{opacity:.25}40%{opacity:1}}",
    "form.composer{padding:.5em .6em .6em;border-top:1px solid #d1d5db;background:#fff}",
    ".composer .row{flex-wrap:nowrap;align-items:flex-end}",
    ".composer textarea{flex:1;min-width:0;min-height:44px;max-height:8em;padding:.55em .6em;border:2px solid #6b7280;border-radius:8px;background:#fff;resize:none}",
    ".composer textarea:focus-visible,.email input:focus-visible{outline:3px solid var(--accent);outline-offset:1px;border-color:var(--accent)}",
    ".talk{margin:0 0 .45em}",
    ".talk .btn{width:100%}",
    ".hint{margin:.3em 0 0;font-size:.78em;color:#4b5563}",
    "@media (prefers-reduced-motion:reduce){.root *{animation:none !important;transition:none !important;scroll-behavior:auto !important}}",
    "@media (forced-colors:active){.bubble,.btn,.launcher,.panel{border:1px solid CanvasText}}"
  ].join("\n");

  // ---- Petits outils DOM : tout le texte passe par textContent --------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }
  // Icônes en SVG (Material Icons, Apache 2.0) : les émojis manquent sur bien des postes d'établissement.
  var ICONS = {
    chat: "M20 2H4c-1.1 0-2 .9-2 2v18l4-4h14c1.1 0 2-.9 2-2V4c0-1.1-.9-2-2-2z",
    person: "M12 12c2.21 0 4-1.79 4-4s-1.79-4-4-4-4 1.79-4 4 1.79 4 4 4zm0 2c-2.67 0-8 1.34-8 4v2h16v-2c0-2.66-5.33-4-8-4z",
    up: "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z",
    down: "M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z",
    close: "M19 6.41 17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12z"
  };
  function icon(name) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "icon");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }
  function safeUrl(url) {
    try {
      var parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) { return null; }
  }
  function link(href, label) {
    return el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: label });
  }
  // Le texte devient des nœuds texte, et les URL http(s) des liens ; aucune balise n'est interprétée.
  function linkify(text) {
    var fragment = document.createDocumentFragment();
    var re = /https?:\/\/[^\s<>"']+/gi, last = 0, match;
    while ((match = re.exec(text))) {
      var url = match[0].replace(/[.,;:!?)\]»]+$/, "");
      var href = safeUrl(url);
      if (!href) continue;
      fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
      fragment.appendChild(link(href, url));
      last = match.index + url.length;
      re.lastIndex = last;
    }
    fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }
  function sourceLabel(href) {
    var u = new URL(href);
    var path = u.pathname.replace(/\/$/, "");
    return u.hostname.replace(/^www\./, "") + (path.length > 32 ? path.slice(0, 30) + "…" : path);
  }
  // L'heure promise, dans le fuseau du service (ses horaires : La Réunion, Nouméa…), pas dans celui de l'appareil.
  function frenchDate(iso, zone) {
    var date = new Date(iso);
    if (isNaN(date)) return null;
    var options = { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" };
    try {
      options.timeZone = zone || "Europe/Paris";
      return new Intl.DateTimeFormat("fr-FR", options).format(date);
    } catch (e) { // un fuseau que ce navigateur ne connaît pas
      options.timeZone = "Europe/Paris";
      return new Intl.DateTimeFormat("fr-FR", options).format(date);
    }
  }

  // ---- La fenêtre ----------------------------------------------------------------------------------
  var host = document.createElement("orientbot-chat");
  var shadow = host.attachShadow({ mode: "open" });
  shadow.appendChild(el("style", { text: CSS }));
  var ui = {};

  ui.launcherCount = el("span", { className: "badge", hidden: true, "aria-hidden": "true" });
  ui.launcherSr = el("span", { className: "sr" });
  ui.launcher = el("button", {
    type: "button", className: "launcher", "aria-expanded": "false", "aria-controls": "ob-panel", onclick: toggle
  }, [icon("chat"), el("span", { text: T.launcher }), ui.launcherCount, ui.launcherSr]);

  ui.eraseBtn = el("button", { type: "button", className: "linkbtn", text: COMMON.erase, onclick: askErase });
  ui.closeBtn = el("button", { type: "button", className: "hbtn", "aria-label": COMMON.close, title: COMMON.close, onclick: function () { close(true); } }, [icon("close")]);
  var header = el("div", { className: "head" }, [
    el("div", { className: "titles" }, [
      el("h2", { id: "ob-title", text: T.title }),
      config.school ? el("p", { text: config.school }) : null
    ]),
    ui.closeBtn
  ]);

  ui.confirmYes = el("button", { type: "button", className: "btn danger", text: COMMON.eraseYes, onclick: erase });
  ui.confirmNo = el("button", { type: "button", className: "btn", text: COMMON.cancel, onclick: cancelErase });
  ui.confirm = el("div", { className: "confirm", role: "alertdialog", "aria-labelledby": "ob-confirm-text", hidden: true }, [
    el("p", { id: "ob-confirm-text", text: T.eraseConfirm }),
    el("div", { className: "row" }, [ui.confirmYes, ui.confirmNo])
  ]);

  ui.urgent = el("div", { className: "urgent", role: "region", "aria-label": "Numéros d'urgence", hidden: true }, [
    el("p", { text: T.urgentTitle }),
    el("ul", {}, EMERGENCY.map(function (line) {
      var parts = [el("a", { href: "tel:" + line.number.replace(/\s+/g, ""), text: line.number }), " " + line.label];
      if (line.hours) parts.push(" (" + line.hours + ")");
      return el("li", {}, parts);
    }))
  ]);
  ui.offline = el("div", { className: "offline", role: "alert", hidden: true });
  ui.barText = el("p", { role: "status", style: "margin:0;font-weight:600" });
  ui.contact = el("div");
  ui.bar = el("div", { className: "bar", hidden: true }, [ui.barText]);

  ui.log = el("div", {
    // aria-live "off" le temps de recharger l'historique (sinon un lecteur d'écran relirait tout), puis "polite".
    className: "log", role: "log", "aria-live": "off", "aria-relevant": "additions", "aria-label": "Conversation", tabindex: "0"
  });
  ui.typing = el("div", { className: "typing", hidden: true }, [
    el("span", { className: "dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]), " " + COMMON.typing
  ]);
  ui.typingStatus = el("div", { className: "sr", role: "status" }); // annonce « Le bot écrit… » aux lecteurs d'écran

  ui.input = el("textarea", { id: "ob-input", rows: "1", placeholder: T.placeholder, maxlength: "5000", "aria-describedby": "ob-hint", autocomplete: "off" });
  ui.send = el("button", { type: "submit", className: "btn primary", text: COMMON.send });
  ui.talk = el("button", { type: "button", className: "btn", onclick: function () { send(T.askCounsellor); } }, [icon("person"), " " + COMMON.talk]);
  ui.form = el("form", { className: "composer", onsubmit: onSubmit }, [
    el("div", { className: "talk" }, [ui.talk]),
    el("label", { for: "ob-input", className: "sr", text: T.inputLabel }),
    el("div", { className: "row" }, [ui.input, ui.send]),
    el("div", { className: "foot" }, [
      el("p", { id: "ob-hint", className: "hint", text: "Entrée : envoyer · Maj+Entrée : à la ligne" }),
      ui.eraseBtn
    ])
  ]);

  ui.panel = el("div", {
    id: "ob-panel", className: "panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "ob-title", hidden: true
  }, [header, ui.confirm, ui.urgent, ui.offline, ui.bar, ui.log, ui.typing, ui.typingStatus, ui.form]);
  // Le bouton d'ouverture avant le panneau : Tab mène du bouton à la fenêtre ouverte.
  ui.root = el("div", { className: "root", lang: "fr" }, [ui.launcher, ui.panel]);
  shadow.appendChild(ui.root);

  ui.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); onSubmit(event); }
  });
  ui.input.addEventListener("input", autoGrow);
  ui.panel.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    event.preventDefault();
    if (!ui.confirm.hidden) cancelErase(); else close(true);
  });

  function mount() {
    document.body.appendChild(host);
    window.addEventListener("online", function () { flushNotBefore = 0; flushDelay = 3000; resync(); });
    window.addEventListener("pageshow", function (e) { if (e.persisted) resync(); });
    document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") resync(); });
    if (saved) {
      // Déjà ouverte sur une page précédente de la session : on retrouve la conversation (sans voler le focus).
      if (conv.open) open(false); else start();
    }
  }

  // ---- Ouvrir / fermer ------------------------------------------------------------------------------
  var started = false;
  function open(focus) {
    ui.panel.hidden = false;
    ui.root.classList.add("is-open");
    ui.launcher.setAttribute("aria-expanded", "true");
    conv.open = true;
    unread = 0; renderUnread();
    touched = true; // première ouverture : c'est ici que commence la persistance
    persist();
    start();
    if (focus !== false) ui.input.focus();
    scrollDown();
  }
  function close(focusLauncher) {
    ui.panel.hidden = true;
    ui.root.classList.remove("is-open");
    ui.launcher.setAttribute("aria-expanded", "false");
    conv.open = false;
    persist();
    if (focusLauncher) ui.launcher.focus();
  }
  function toggle() { if (ui.panel.hidden) open(); else close(true); }
  function start() {
    if (started) return;
    started = true;
    if (!ui.log.firstChild) renderWelcome();
    conv.outbox.forEach(function (item) { if (!item.stored) renderPending(item); }); // un message déjà enregistré revient par /history
    resync();
  }
  function renderWelcome() {
    ui.log.appendChild(el("div", { className: "msg bot welcome" }, [
      el("p", { className: "who sr", text: COMMON.bot + " :" }),
      el("div", { className: "bubble", text: T.welcome + "\n" + T.privacy })
    ]));
  }

  // ---- Réseau ---------------------------------------------------------------------------------------
  function request(method, path, body, timeoutMs, controller) {
    controller = controller || new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, timeoutMs || 20000);
    var headers = body ? { "Content-Type": "application/json" } : {};
    if (conv.token) headers[TOKEN_HEADER] = conv.token; // le jeton dans un en-tête, jamais dans l'URL
    return fetch(API + path, {
      method: method, credentials: "omit", cache: "no-store", signal: controller.signal,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        clearTimeout(timer);
        return { status: res.status, ok: res.ok, json: json };
      });
    }, function (error) { clearTimeout(timer); throw error; });
  }
  // Secondes à attendre après un 429 (trop de requêtes en peu de temps).
  function waitOf(res) { return Math.min(Math.max(Number(res.json.retry_after) || 5, 1), 120) * 1000; }

  // Une nouvelle conversation : le bot donne son identifiant et son jeton.
  var beginning = false;
  function begin() {
    if (conv.token || beginning) return;
    beginning = true;
    request("POST", "/start", config.schoolCode ? { school: config.schoolCode } : {})
      .then(function (res) {
        beginning = false;
        if (res.status === 429) { clearTimeout(retryTimer); retryTimer = setTimeout(function () { retryTimer = null; resync(); }, waitOf(res)); return; }
        if (!res.ok || !res.json.sender || !res.json.token) throw new Error("start " + res.status);
        conv.sender = res.json.sender; conv.token = res.json.token; conv.lastId = 0;
        persist();
        setOnline(true);
        retryDelay = 2000;
        resync();
      })
      .catch(function () { beginning = false; setOnline(false); retryLater(); });
  }
  // Le bot ne reconnaît plus le jeton (403 : clé changée sur le serveur…) : on repart d'une conversation neuve,
  // les messages en attente d'envoi compris.
  function forbidden() {
    stopPolling();
    conv.sender = null; conv.token = null; conv.lastId = 0; conv.votes = {};
    persist();
    begin();
  }

  function q(params) {
    return "?" + Object.keys(params).map(function (k) { return k + "=" + encodeURIComponent(params[k]); }).join("&");
  }

  var online = true;
  function setOnline(value) {
    if (online === value) return;
    online = value;
    ui.offline.replaceChildren();
    if (!value) {
      ui.offline.append(
        el("p", { style: "font-weight:700", text: COMMON.offlineTitle }),
        el("p", { text: T.offlineBody }),
        otherWays()
      );
    }
    ui.offline.hidden = value;
  }

  // Recharge toute la conversation (après un rechargement, un réveil du téléphone, le retour du réseau).
  var syncing = false;
  function resync() {
    if (!started || syncing) return;
    if (!conv.token) { begin(); return; }
    syncing = true;
    request("GET", "/history" + q({ sender: conv.sender }))
      .then(function (res) {
        if (res.status === 403) { syncing = false; forbidden(); return; }
        if (res.status === 429) {
          syncing = false;
          clearTimeout(retryTimer);
          retryTimer = setTimeout(function () { retryTimer = null; resync(); }, waitOf(res));
          return;
        }
        if (!res.ok) throw new Error("history " + res.status);
        syncing = false;
        setOnline(true);
        retryDelay = 2000;
        (res.json.messages || []).forEach(addMessage);
        scrollDown();
        ui.log.setAttribute("aria-live", "polite");
        setState(res.json.state);
        flush();
        stopPolling(); // une attente commencée avant la mise en veille peut être morte : on repart
        poll();
      })
      .catch(function () { syncing = false; setOnline(false); retryLater(); });
  }

  // Long polling : le message d'un conseiller arrive dès qu'il est écrit, sans recharger la page.
  // Une attente abandonnée est annulée (abort) : sinon elle garderait l'une des 6 connexions HTTP/1.1
  // que le navigateur ouvre vers le bot, et quelques réveils suffiraient à bloquer l'envoi des messages.
  var polling = null, pollGeneration = 0, retryTimer = null, retryDelay = 2000;
  function poll() {
    if (!conv.token || polling) return;
    var generation = ++pollGeneration, startedAt = Date.now();
    polling = new AbortController();
    request("GET", "/events" + q({ sender: conv.sender, after: conv.lastId, wait: 25 }), null, 40000, polling)
      .then(function (res) {
        if (generation !== pollGeneration) return;
        if (res.status === 403) { polling = null; forbidden(); return; }
        if (res.status === 429) { // trop d'attentes en peu de temps : on patiente, ce n'est pas une panne
          polling = null;
          setTimeout(function () { if (generation === pollGeneration) poll(); }, waitOf(res));
          return;
        }
        if (!res.ok) throw new Error("events " + res.status);
        setOnline(true);
        retryDelay = 2000;
        var messages = res.json.messages || [];
        addMessages(messages);
        setState(res.json.state);
        if (conv.outbox.length) flush();
        polling = null;
        // Jamais plus d'une attente par seconde, même si le serveur répondait tout de suite à vide.
        setTimeout(function () { if (generation === pollGeneration) poll(); },
                   messages.length ? 0 : Math.max(0, 1000 - (Date.now() - startedAt)));
      })
      .catch(function () {
        if (generation !== pollGeneration) return;
        polling = null;
        setOnline(false);
        retryLater();
      });
  }
  function stopPolling() {
    pollGeneration++;
    if (polling) polling.abort();
    polling = null;
  }
  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(function () { retryTimer = null; resync(); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  // ---- Envoyer : tout passe par la boîte d'envoi, gardée dans localStorage jusqu'à l'accusé du bot ----
  function onSubmit(event) {
    event.preventDefault();
    var text = ui.input.value.trim();
    if (!text) { ui.input.focus(); return; }
    ui.input.value = "";
    autoGrow();
    send(text);
    ui.input.focus();
  }
  function send(text, display) {
    if (ui.panel.hidden) open();
    var item = { client_id: randomId("m-"), text: text, display: display || text };
    conv.outbox.push(item);
    persist();
    renderPending(item);
    scrollDown();
    flush();
  }
  // Le bot en panne derrière le canal (503 « stored ») : on réessaie, mais de plus en plus lentement.
  var flushing = false, flushNotBefore = 0, flushDelay = 3000, flushTimer = null;
  function flush(now) {
    if (flushing || !conv.outbox.length) return;
    if (now !== true && Date.now() < flushNotBefore) return;
    if (!conv.token) { begin(); return; } // la conversation commence : le message partira juste après
    flushing = true;
    var item = conv.outbox[0];
    setTyping(true);
    var body = { sender: conv.sender, text: item.text, client_id: item.client_id, metadata: { audience: config.audience } };
    if (item.display !== item.text) body.display = item.display;
    request("POST", "/message", body, 70000)
      .then(function (res) {
        var pending = shadow.querySelector('[data-client-id="' + item.client_id + '"]');
        if (res.ok || res.status === 400) {
          conv.outbox.shift(); // reçu et traité par le serveur (ou refusé pour de bon) : on ne le renverra plus
          persist();
          setOnline(true);
          flushNotBefore = 0; flushDelay = 3000;
        }
        if (res.ok) {
          if (pending) pending.remove();
          addMessages(res.json.messages);
          setState(res.json.state);
        } else if (res.status === 400) {
          if (pending) {
            pending.classList.remove("pending");
            pending.querySelector(".note").className = "note err";
            pending.querySelector(".note").textContent = COMMON.failed + (res.json.error || "requête refusée.");
          }
        } else if (res.status === 403) {
          flushing = false;
          setTyping(false);
          forbidden();
          return;
        } else if (res.status === 429) {
          // Trop de messages en peu de temps : il reste dans la boîte d'envoi et repart tout seul.
          if (!item.tooFast) addLocalNote(T.tooFast);
          item.tooFast = true;
          persist();
          setOnline(true);
          var wait = waitOf(res);
          flushNotBefore = Date.now() + wait;
          clearTimeout(flushTimer);
          flushTimer = setTimeout(function () { flush(true); }, wait);
          flushing = false;
          setTyping(false);
          return;
        } else if (res.status === 503 && res.json.stored) {
          // Enregistré mais sans réponse : il reste dans la boîte d'envoi (même client_id, donc gardé une
          // seule fois) et le bot y répondra quand on le renverra, une fois revenu.
          if (pending) pending.remove();
          addMessages(res.json.messages);
          if (!item.stored) addLocalNote(T.stored, true);
          item.stored = true;
          persist();
          setOnline(true);
          flushNotBefore = Date.now() + flushDelay;
          clearTimeout(flushTimer);
          flushTimer = setTimeout(function () { flush(true); }, flushDelay);
          flushDelay = Math.min(flushDelay * 2, 60000);
          flushing = false;
          setTyping(false);
          return;
        } else {
          if (res.status === 503 && res.json && res.json.urgent) {
            // Base indisponible, message non enregistré, mais il dit une détresse : les numéros d'urgence tout de suite.
            lastHandoff = { priority: "urgent" };
            ui.urgent.hidden = false;
          }
          throw new Error("message " + res.status);
        }
        flushing = false;
        setTyping(false);
        flush();
      })
      .catch(function () {
        // Bot injoignable : le message reste dans la boîte d'envoi et repartira au retour du réseau.
        flushing = false;
        setTyping(false);
        setOnline(false);
        retryLater();
      });
  }
  function autoGrow() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight + 4, 160) + "px";
  }
  function setTyping(on) {
    ui.typing.hidden = !on;
    ui.typingStatus.textContent = on ? COMMON.typing : "";
    if (on) scrollDown();
  }

  // ---- Afficher les messages ------------------------------------------------------------------------
  var unread = 0;
  var lastHandoff = null; // le dernier passage de relais vu, si aucun ticket n'a pu être écrit
  function addMessage(message) {
    if (!message || typeof message.id !== "number") return;
    if (shadow.querySelector('.msg[data-id="' + message.id + '"]')) return; // déjà affiché (réessai, long polling)
    var node = renderMessage(message);
    var isNew = message.id > conv.lastId; // déjà vu avant le rechargement : pas « non lu »
    if (isNew) { conv.lastId = message.id; persist(); }
    if (!node) return null;
    // Ordre des id ; les messages en attente d'envoi restent à la fin.
    var before = null;
    Array.prototype.some.call(ui.log.children, function (child) {
      var id = Number(child.dataset.id);
      if (child.classList.contains("pending") || (id && id > message.id)) { before = child; return true; }
      return false;
    });
    ui.log.insertBefore(node, before);
    if (isNew && ui.panel.hidden && message.author !== "user") { unread += 1; renderUnread(); }
    return node;
  }
  // Une réponse longue est montrée depuis son début (la question juste au-dessus), pas depuis sa fin.
  function addMessages(list) {
    var first = null;
    (list || []).forEach(function (m) { var node = addMessage(m); first = first || node; });
    if (first) ui.log.scrollTop = Math.min(first.offsetTop - 8, ui.log.scrollHeight - ui.log.clientHeight);
  }
  function renderMessage(m) {
    var payload = m.payload || {};
    if (m.author === "system") {
      if (payload.kind === "handed_back") { lastHandoff = null; return systemNode(m.id, COMMON.handedBack); }
      if (payload.kind === "urgent") { lastHandoff = { priority: "urgent" }; renderUrgent(); return systemNode(m.id, T.urgentNote); }
      return m.text ? systemNode(m.id, m.text) : null; // "no_reply" et autres signaux internes : rien à montrer
    }
    var isUser = m.author === "user", isCounsellor = m.author === "counsellor";
    var who = isUser ? T.me : isCounsellor ? COMMON.counsellor : COMMON.bot;
    var bubble = el("div", { className: "bubble" }, [linkify(m.text || "")]);
    var node = el("div", { className: "msg " + (isCounsellor ? "counsellor" : isUser ? "user" : "bot"), "data-id": String(m.id) }, [
      // Visible pour un conseiller (c'est une personne), lisible par les lecteurs d'écran pour tous.
      el("p", { className: isCounsellor ? "who" : "who sr" }, [isCounsellor ? icon("person") : null, isCounsellor ? " " + who : who + " :"]),
      bubble
    ]);
    if (payload.answer) {
      var sources = (payload.answer.sources || []).map(safeUrl).filter(Boolean);
      if (sources.length) {
        node.appendChild(el("p", { className: "note", text: COMMON.sources }));
        node.appendChild(el("ul", { className: "sources" }, sources.map(function (s) { return el("li", {}, [link(s, sourceLabel(s))]); })));
      }
      node.appendChild(feedbackNode(m.id));
    }
    if (Array.isArray(payload.buttons) && payload.buttons.length) {
      node.appendChild(el("div", { className: "choices", role: "group", "aria-label": "Propositions" }, payload.buttons.map(function (b) {
        return el("button", { type: "button", className: "btn", text: b.title, onclick: function () { send(b.payload || b.title, b.title); } });
      })));
    }
    if (payload.handoff) { lastHandoff = payload.handoff; renderUrgent(); }
    if (payload.handoff && typeof payload.handoff.pickup_code === "string") node.appendChild(pickupNode(payload.handoff));
    if (isCounsellor) lastHandoff = null;
    return node;
  }
  // Le soir, le code qui permet de lire la réponse sans laisser d'adresse, et le lien vers la page du bot
  // (le code voyage après « # » : le navigateur ne l'envoie pas au serveur, la page le remplit elle-même).
  var pickup = null;
  function pickupNode(handoff) {
    var path = /^\/webhooks\/chat\/[a-z]+$/.test(handoff.pickup_path || "") ? handoff.pickup_path : "/webhooks/chat/reponse";
    pickup = { code: handoff.pickup_code, url: config.botUrl + path + "#" + encodeURIComponent(handoff.pickup_code) };
    return el("div", { className: "pickup" }, [
      el("p", {}, [T.pickupCode + " ", el("strong", { className: "code", text: pickup.code })]),
      el("p", { text: T.pickupNote }),
      link(pickup.url, COMMON.pickupLink)
    ]);
  }
  function systemNode(id, text) {
    return el("div", { className: "msg system", "data-id": String(id) }, [el("p", { style: "margin:0", text: text })]);
  }
  function renderPending(item) {
    ui.log.appendChild(el("div", { className: "msg user pending", "data-client-id": item.client_id }, [
      el("p", { className: "who sr", text: T.me + " :" }),
      el("div", { className: "bubble" }, [linkify(item.display)]),
      el("p", { className: "note", text: COMMON.pending })
    ]));
  }
  function addLocalNote(text, withOtherWays) {
    ui.log.appendChild(el("div", { className: "msg system" }, [
      el("p", { style: "margin:0", text: text }),
      withOtherWays ? otherWays() : null
    ]));
    scrollDown();
  }
  // Les autres moyens de joindre un conseiller quand le bot ne répond pas.
  function otherWays() {
    return el("ul", { className: "ways" }, T.offlineWays.map(function (w) { return el("li", { text: w }); })
      .concat([el("li", { text: COMMON.offlineUrgent })]));
  }
  function feedbackNode(messageId) {
    var status = el("span", { role: "status" });
    var group = el("div", { className: "fb", role: "group", "aria-label": T.helpful }, [el("span", { text: T.helpful })]);
    [[1, "up", COMMON.up], [-1, "down", COMMON.down]].forEach(function (f) {
      group.appendChild(el("button", {
        type: "button", "data-value": String(f[0]),
        "aria-pressed": conv.votes[messageId] === f[0] ? "true" : "false",
        onclick: function () { vote(messageId, f[0], group, status); }
      }, [icon(f[1]), " " + f[2]]));
    });
    group.appendChild(status);
    return group;
  }
  function vote(messageId, value, group, status) {
    request("POST", "/feedback", { sender: conv.sender, message_id: messageId, value: value })
      .then(function (res) {
        if (!res.ok) throw new Error("feedback " + res.status);
        conv.votes[messageId] = value;
        persist();
        group.querySelectorAll("button").forEach(function (b) {
          b.setAttribute("aria-pressed", Number(b.dataset.value) === value ? "true" : "false");
        });
        status.textContent = T.thanks;
      })
      .catch(function () { status.textContent = COMMON.feedbackFailed; });
  }
  function renderUnread() {
    ui.launcherCount.hidden = !unread;
    ui.launcherCount.textContent = unread ? String(unread) : "";
    ui.launcherSr.textContent = unread ? " (" + T.unread(unread) + ")" : "";
  }
  function scrollDown() { ui.log.scrollTop = ui.log.scrollHeight; }

  // ---- L'état du passage de relais ------------------------------------------------------------------
  var state = {};
  function setState(next, force) {
    if (!next) return;
    var before = JSON.stringify(state);
    state = next;
    if (!force && JSON.stringify(state) === before) return; // le long polling renvoie souvent le même état
    var taken = state.status === "taken" || state.status === "answered";
    ui.bar.hidden = !state.ticket_id;
    if (taken) {
      ui.barText.textContent = COMMON.joined;
    } else if (state.mode === "live") {
      ui.barText.textContent = T.waiting(state.waiting_ahead || 0);
    } else if (state.mode === "deferred") {
      var due = state.due_at && frenchDate(state.due_at, state.timezone);
      ui.barText.textContent = due ? COMMON.deferred + due + "." : COMMON.deferredNoDate;
    }
    renderContact(force);
    renderUrgent();
  }
  // Les numéros d'urgence restent affichés tant qu'aucun conseiller n'a pris la conversation.
  function renderUrgent() {
    var urgent;
    if (state.ticket_id) urgent = state.priority === "urgent" && state.status !== "taken" && state.status !== "answered";
    else urgent = !!(lastHandoff && lastHandoff.priority === "urgent");
    ui.urgent.hidden = !urgent;
  }

  // Le soir (mode différé), la personne choisit comment recevoir la réponse.
  var editingContact = false;
  function renderContact(force) {
    var show = state.ticket_id && state.mode === "deferred" && state.status !== "taken" && state.status !== "answered";
    if (!show) { ui.contact.remove(); return; }
    // Ne pas reconstruire le formulaire sous les doigts de la personne (un nouvel état arrive en cours de saisie).
    if (!force && ui.contact.isConnected && ui.contact.contains(shadow.activeElement)) return;
    ui.contact.replaceChildren();
    if (state.contact_channel && !editingContact) {
      var change = el("button", { type: "button", className: "btn", text: COMMON.contactChange, onclick: function () {
        editingContact = true; renderContact(true); ui.contact.querySelector("input").focus();
      } });
      ui.contact.append(el("div", { className: "row", style: "align-items:center;margin-top:.4em" }, [
        el("span", { text: T.contactSaved[state.contact_channel] || "" }), change
      ]));
    } else if (state.priority === "urgent" && !editingContact) {
      // Urgent : les numéros et le message passent d'abord ; le choix du contact reste à un clic.
      ui.contact.appendChild(el("details", {}, [el("summary", { text: T.contactLegend }), contactForm()]));
    } else {
      ui.contact.appendChild(contactForm());
    }
    ui.bar.appendChild(ui.contact);
  }
  function contactForm() {
    var current = state.contact_channel || "ent";
    var ent = el("input", { type: "radio", name: "ob-channel", id: "ob-ch-ent", value: "ent", checked: current === "ent" });
    var mail = el("input", { type: "radio", name: "ob-channel", id: "ob-ch-email", value: "email", checked: current === "email" });
    var email = el("input", { type: "email", id: "ob-email", autocomplete: "email", inputmode: "email" });
    var consent = el("input", { type: "checkbox", id: "ob-consent" });
    var emailBox = el("div", { hidden: current !== "email" }, [
      el("label", { className: "email", for: "ob-email" }, [T.emailLabel, email]),
      el("div", { className: "field" }, [consent, el("label", { for: "ob-consent", text: T.consent })])
    ]);
    var error = el("p", { className: "error", role: "alert" });
    function sync() { emailBox.hidden = !mail.checked; }
    ent.addEventListener("change", sync);
    mail.addEventListener("change", sync);
    var form = el("form", { onsubmit: function (event) {
      event.preventDefault();
      error.textContent = "";
      var channel = mail.checked ? "email" : "ent";
      request("POST", "/contact", {
        sender: conv.sender, ticket_id: state.ticket_id, channel: channel,
        email: channel === "email" ? email.value.trim() : null, consent: channel === "email" && consent.checked
      }).then(function (res) {
        if (!res.ok) {
          // Une adresse refusée : l'autre moyen d'avoir la réponse, le code, est rappelé avec l'erreur.
          error.textContent = (res.json.error || COMMON.offlineTitle) + (pickup ? " " + T.contactOther(pickup.code) : "");
          return;
        }
        editingContact = false;
        setState(res.json.state, true);
        var changeButton = ui.contact.querySelector("button");
        if (changeButton) changeButton.focus();
      }).catch(function () { error.textContent = COMMON.offlineTitle; });
    } }, [
      el("fieldset", {}, [
        el("legend", { text: T.contactLegend }),
        el("div", { className: "field" }, [ent, el("label", { for: "ob-ch-ent", text: T.contactEnt })]),
        el("div", { className: "field" }, [mail, el("label", { for: "ob-ch-email", text: COMMON.email })]),
        emailBox,
        error,
        el("button", { type: "submit", className: "btn primary", text: COMMON.contactSubmit })
      ])
    ]);
    return form;
  }

  // ---- Effacer la conversation (avec confirmation) -----------------------------------------------------
  function askErase() {
    ui.confirm.hidden = false;
    ui.confirmNo.focus();
  }
  function cancelErase() {
    ui.confirm.hidden = true;
    ui.eraseBtn.focus();
  }
  function erase() {
    var forget = function () {
      stopPolling();
      try { store().removeItem(STORE_KEY); } catch (e) { /* rien à effacer */ }
      conv = { sender: null, token: null, lastId: 0, outbox: [], votes: {}, open: true };
      state = {}; lastHandoff = null; pickup = null;
      ui.bar.hidden = true; ui.urgent.hidden = true; ui.contact.remove();
      ui.log.replaceChildren();
      renderWelcome();
      addLocalNote("Conversation effacée.");
      ui.confirm.hidden = true;
      persist();
      ui.input.focus();
      begin();
    };
    if (!conv.sender) { forget(); return; }
    request("POST", "/erase", { sender: conv.sender })
      .then(function (res) { if (!res.ok) throw new Error("erase " + res.status); forget(); })
      .catch(function () { ui.confirm.hidden = true; addLocalNote(COMMON.eraseFailed); ui.eraseBtn.focus(); });
  }

  // En dernier : toutes les variables ci-dessus sont initialisées avant le premier rendu.
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
