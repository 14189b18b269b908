/**
 * The open alerts, newest first, each with an Acknowledge action. Acknowledging asks for a note
 * and, the first time, for the api's token (API_ACK_TOKEN) and the user's name; both are kept in
 * sessionStorage, so they last as long as the tab and are typed once.
 *
 * @module
 */

import { acknowledge } from "./api_client.js";

/** sessionStorage keys. */
export const TOKEN_KEY = "iot.ackToken";
export const NAME_KEY = "iot.ackBy";

/** The alerts table of one page. */
export class AlertsPanel {
  /**
   * @param {Document} doc
   * @param {Storage} storage sessionStorage
   * @param {(alert: any) => void} onAcknowledged the alert as the api returned it
   * @param {(id: string) => void} onSelect a click on an alert's device
   */
  constructor(doc, storage, onAcknowledged, onSelect) {
    this.doc = doc;
    this.storage = storage;
    this.onAcknowledged = onAcknowledged;
    this.onSelect = onSelect;
    this.body = doc.getElementById("alerts");
    /** The alert whose form is open: a redraw keeps it. @type {number | undefined} */
    this.editing = undefined;
    /** The row holding the open form. @type {HTMLTableRowElement | undefined} */
    this.editingRow = undefined;
    doc.getElementById("forget-token").addEventListener("click", () => {
      storage.removeItem(TOKEN_KEY);
      this.showToken();
      this.render(this.last ?? []);
    });
    this.showToken();
  }

  showToken() {
    const set = this.storage.getItem(TOKEN_KEY) !== null;
    this.doc.getElementById("token-state").textContent = set ? "kept for this tab" : "not set";
    this.doc.getElementById("forget-token").hidden = !set;
  }

  /**
   * Redraws the table.
   * @param {any[]} alerts open alerts, newest first
   */
  render(alerts) {
    this.last = alerts;
    this.doc.getElementById("no-alerts").hidden = alerts.length > 0;
    this.doc.getElementById("open-alert-count").textContent = String(alerts.length);
    const rows = alerts.map((alert) => {
      // The row with the open form is the same element across redraws, even one drawn while
      // the alert was briefly missing from the list: what is being typed into it stays there.
      if (this.editing === alert.id && this.editingRow !== undefined) return this.editingRow;
      return this.#row(alert);
    });
    // Not replaceChildren: taking the open form's row out of the page, even to put it back at
    // once, blurs the field being typed in, and the next keystrokes go nowhere.
    const keep = new Set(rows);
    for (const child of [...this.body.children]) if (!keep.has(child)) child.remove();
    rows.forEach((row, i) => {
      const at = this.body.children[i];
      if (at !== row) this.body.insertBefore(row, at ?? null);
    });
  }

  /** @param {any} alert */
  #row(alert) {
    const tr = this.doc.createElement("tr");
    tr.dataset.alertId = String(alert.id);
    tr.dataset.device = alert.device;
    tr.dataset.type = alert.type;
    const device = this.doc.createElement("a");
    device.href = "#";
    device.textContent = alert.device;
    device.addEventListener("click", (e) => {
      e.preventDefault();
      this.onSelect(alert.device);
    });
    const cells = [
      device,
      alert.type,
      new Date(alert.opened_at).toLocaleTimeString(),
      alert.peak_value === null ? "" : Number(alert.peak_value).toFixed(1),
      String(alert.trigger_count),
    ];
    for (const content of cells) {
      const td = this.doc.createElement("td");
      td.append(content);
      tr.append(td);
    }
    const action = this.doc.createElement("td");
    if (alert.acknowledged_at) {
      tr.classList.add("acknowledged");
      action.textContent = `acknowledged by ${alert.acknowledged_by}`;
      action.title = alert.acknowledge_note ?? "";
    } else {
      const button = this.doc.createElement("button");
      button.type = "button";
      button.textContent = "Acknowledge";
      button.addEventListener("click", () => {
        this.editing = alert.id;
        action.replaceChildren(this.#form(alert));
        this.editingRow = tr;
        // Clicked on a row a redraw had already replaced: draw this one, with its form, instead.
        if (!tr.isConnected) this.render(this.last ?? []);
      });
      action.append(button);
    }
    tr.append(action);
    return tr;
  }

  /** @param {any} alert */
  #form(alert) {
    const form = this.doc.createElement("form");
    const field = (/** @type {string} */ label, /** @type {string} */ type, value = "") => {
      const input = this.doc.createElement("input");
      input.type = type;
      input.value = value;
      input.required = label !== "Note";
      input.placeholder = label;
      input.setAttribute("aria-label", label);
      form.append(input);
      return input;
    };
    const note = field("Note", "text");
    const token = this.storage.getItem(TOKEN_KEY) === null ? field("Token", "password") : null;
    const by = field("Your name", "text", this.storage.getItem(NAME_KEY) ?? "");
    const submit = this.doc.createElement("button");
    submit.type = "submit";
    submit.textContent = "Send";
    const cancel = this.doc.createElement("button");
    cancel.type = "button";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", () => {
      this.editing = undefined;
      this.editingRow = undefined;
      this.render(this.last ?? []);
    });
    const message = this.doc.createElement("span");
    message.className = "message";
    form.append(submit, cancel, message);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (token !== null) this.storage.setItem(TOKEN_KEY, token.value);
      this.storage.setItem(NAME_KEY, by.value);
      this.showToken();
      submit.disabled = true;
      try {
        const updated = await acknowledge(alert.id, {
          token: this.storage.getItem(TOKEN_KEY) ?? "",
          by: by.value,
          note: note.value,
        });
        this.editing = undefined;
        this.editingRow = undefined;
        this.onAcknowledged(updated);
      } catch (error) {
        const text = /** @type {Error} */ (error).message;
        // A refused token is forgotten, and the form asks for it again.
        if (/** @type {any} */ (error).status === 401) {
          this.storage.removeItem(TOKEN_KEY);
          this.showToken();
          const again = this.#form(alert);
          /** @type {HTMLElement} */ (again.querySelector(".message")).textContent = text;
          form.replaceWith(again);
          return;
        }
        message.textContent = text;
        submit.disabled = false;
      }
    });
    setTimeout(() => note.focus());
    return form;
  }
}
