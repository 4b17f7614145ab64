//! Credit notes (`POST` / `GET /v1/credit_notes`, `GET /v1/credit_notes/{id}`) with Stripe's
//! rules: only on a finalized invoice (not a draft, not void); by `amount` or by `lines`, not
//! both; never more than the invoice has left to credit. On an open (or uncollectible) invoice a
//! credit note lowers what is due (`pre_payment`), and one that clears the rest marks the invoice
//! paid. On a paid invoice (`post_payment`) its total must be split exactly into
//! `credit_amount` (a customer balance transaction), `refund_amount` (a refund of the invoice's
//! charge) and `out_of_band_amount` (settled outside Stripe).

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{Ctx, Data, Params, StripeError, err, invalid, missing, no_such, now};

const REASONS: &[&str] = &[
    "duplicate",
    "fraudulent",
    "order_change",
    "product_unsatisfactory",
];

/// One `lines[i][…]` entry, its fields as sent.
struct Line<'a> {
    index: usize,
    fields: Vec<(&'a str, &'a str)>,
}

impl Line<'_> {
    fn get(&self, f: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| *k == f).map(|(_, v)| *v)
    }
    fn int(&self, f: &str) -> Result<Option<i64>, StripeError> {
        match self.get(f) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                invalid(
                    "parameter_invalid_integer",
                    &self.param(f),
                    format!("Invalid integer: {v}"),
                )
            }),
        }
    }
    fn param(&self, f: &str) -> String {
        format!("lines[{}][{f}]", self.index)
    }
}

/// `lines[0][type]=…&lines[0][amount]=…` grouped by index, in index order.
fn lines(p: &Params) -> Result<Vec<Line<'_>>, StripeError> {
    let mut out: Vec<Line<'_>> = Vec::new();
    for (k, v) in &p.0 {
        let Some(rest) = k.strip_prefix("lines[") else {
            continue;
        };
        let parsed = rest
            .split_once("][")
            .and_then(|(i, f)| Some((i.parse::<usize>().ok()?, f.strip_suffix(']')?)));
        let Some((index, field)) = parsed.filter(|(_, f)| !f.contains(['[', ']'])) else {
            return Err(invalid(
                "parameter_unknown",
                k,
                format!("Received unknown parameter: {k}"),
            ));
        };
        match out.iter_mut().find(|l| l.index == index) {
            Some(l) => l.fields.push((field, v)),
            None => out.push(Line {
                index,
                fields: vec![(field, v)],
            }),
        }
    }
    out.sort_by_key(|l| l.index);
    if out.iter().enumerate().any(|(i, l)| l.index != i) {
        return Err(invalid(
            "parameter_invalid_integer",
            "lines",
            "Line items must be numbered from 0 without gaps: lines[0], lines[1], …".into(),
        ));
    }
    Ok(out)
}

pub(super) fn create(d: &mut Data, ctx: &Ctx<'_>, p: &Params) -> Result<Value, StripeError> {
    ctx.need("credit_note_write")?;
    p.check_known(&[
        "invoice",
        "amount",
        "lines",
        "reason",
        "memo",
        "metadata",
        "credit_amount",
        "refund_amount",
        "out_of_band_amount",
        "effective_at",
        "refund",
        "shipping_cost",
    ])?;
    let invoice_id = p.required("invoice")?.to_string();
    let amount = p.int("amount")?;
    let lines = lines(p)?;
    let (credit, refund, oob) = (
        p.int("credit_amount")?,
        p.int("refund_amount")?,
        p.int("out_of_band_amount")?,
    );
    let reason = p.get("reason").map(str::to_string);
    if let Some(r) = reason.as_deref().filter(|r| !REASONS.contains(r)) {
        return Err(invalid(
            "parameter_invalid_string",
            "reason",
            format!(
                "Invalid reason: must be one of {}; got '{r}'",
                REASONS.join(", ")
            ),
        ));
    }
    let memo = p.get("memo").map(str::to_string);
    let metadata = p.metadata();
    let effective_at = p.int("effective_at")?;
    for (name, v) in [
        ("amount", amount),
        ("credit_amount", credit),
        ("refund_amount", refund),
        ("out_of_band_amount", oob),
    ] {
        if v.is_some_and(|v| v <= 0) {
            return Err(invalid(
                "parameter_invalid_integer",
                name,
                format!("{name} must be a positive integer in the smallest currency unit."),
            ));
        }
    }

    let pos = d
        .invoices
        .iter()
        .position(|x| x["id"] == invoice_id.as_str())
        .ok_or_else(|| no_such("invoice", "invoice", &invoice_id))?;
    let inv = d.invoices[pos].clone();
    let status = inv["status"].as_str().unwrap_or_default().to_string();
    if status == "draft" || status == "void" {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            Some("invoice"),
            format!(
                "Credit notes can only be issued for finalized invoices; invoice {invoice_id} is {status}."
            ),
        ));
    }

    // The credited lines and the total.
    let mut out_lines = Vec::new();
    let total = match (amount, lines.is_empty()) {
        (Some(_), false) => {
            return Err(invalid(
                "parameter_invalid_integer",
                "amount",
                "You may only specify one of these parameters: amount, lines.".into(),
            ));
        }
        (None, true) => {
            return Err(invalid(
                "parameter_missing",
                "amount",
                "Must provide either amount or lines.".into(),
            ));
        }
        (Some(a), true) => {
            out_lines.push(line_json(
                d,
                "custom_line_item",
                a,
                1,
                Some(a),
                memo.as_deref().or(reason.as_deref()).unwrap_or("Credit"),
                None,
            ));
            a
        }
        (None, false) => {
            let mut sum = 0;
            for l in &lines {
                sum += credited_line(d, &inv, l, &mut out_lines)?;
            }
            sum
        }
    };

    let post_payment = status == "paid";
    let remaining = if post_payment {
        inv["amount_paid"].as_i64().unwrap_or(0)
            - inv["post_payment_credit_notes_amount"]
                .as_i64()
                .unwrap_or(0)
    } else {
        inv["amount_remaining"].as_i64().unwrap_or(0)
    };
    if total > remaining {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            Some("amount"),
            format!(
                "The credit note total ({}) is greater than what invoice {invoice_id} has left to credit ({}).",
                cents(total),
                cents(remaining)
            ),
        ));
    }
    let split = credit.unwrap_or(0) + refund.unwrap_or(0) + oob.unwrap_or(0);
    if post_payment && split != total {
        return Err(invalid(
            "parameter_invalid_integer",
            "credit_amount",
            format!(
                "For a paid invoice the sum of credit_amount, refund_amount and out_of_band_amount ({}) must equal the credit note total ({}).",
                cents(split),
                cents(total)
            ),
        ));
    }
    if !post_payment && (credit.is_some() || refund.is_some()) {
        let which = if credit.is_some() {
            "credit_amount"
        } else {
            "refund_amount"
        };
        return Err(invalid(
            "parameter_invalid_integer",
            which,
            format!(
                "{which} can only be used on a credit note for a paid invoice; invoice {invoice_id} is {status}."
            ),
        ));
    }

    let id = d.new_id("cn");
    let customer = inv["customer"].as_str().unwrap_or_default().to_string();
    let currency = inv["currency"].clone();
    let t = now();
    let refund_id = match refund {
        Some(r) => Some(refund_charge(d, &invoice_id, r)?),
        None => None,
    };
    let balance_txn = match credit {
        Some(c) => {
            let cpos = d
                .customers
                .iter()
                .position(|x| x["id"] == customer.as_str())
                .ok_or_else(|| no_such("customer", "customer", &customer))?;
            let balance = d.customers[cpos]["balance"].as_i64().unwrap_or(0) - c;
            d.customers[cpos]["balance"] = json!(balance);
            let txn_id = d.new_id("cbtxn");
            d.balance_transactions.push(json!({
                "id": txn_id, "object": "customer_balance_transaction", "amount": -c, "created": t, "credit_note": id,
                "currency": currency, "customer": customer, "description": null, "ending_balance": balance, "invoice": null,
                "livemode": false, "metadata": {}, "type": "credit_note",
            }));
            Some(txn_id)
        }
        None => None,
    };
    let n = d
        .credit_notes
        .iter()
        .filter(|c| c["invoice"] == invoice_id.as_str())
        .count()
        + 1;
    let number = format!("{}-CN-{n:02}", inv["number"].as_str().unwrap_or("SBX"));
    let note = json!({
        "id": id, "object": "credit_note", "amount": total, "amount_shipping": 0, "created": t, "currency": currency,
        "customer": customer, "customer_balance_transaction": balance_txn, "discount_amount": 0, "discount_amounts": [],
        "effective_at": effective_at.unwrap_or(t), "invoice": invoice_id,
        "lines": { "object": "list", "data": out_lines, "has_more": false, "url": format!("/v1/credit_notes/{id}/lines") },
        "livemode": false, "memo": memo, "metadata": metadata, "number": number, "out_of_band_amount": oob,
        "pdf": format!("https://pay.stripe.com/credit_notes/acct_sbx/test_{id}/pdf"), "reason": reason, "refund": refund_id,
        "shipping_cost": null, "status": "issued", "subtotal": total, "subtotal_excluding_tax": total, "tax_amounts": [],
        "total": total, "total_excluding_tax": total, "type": if post_payment { "post_payment" } else { "pre_payment" }, "voided_at": null,
    });
    let inv = &mut d.invoices[pos];
    if post_payment {
        inv["post_payment_credit_notes_amount"] = json!(
            inv["post_payment_credit_notes_amount"]
                .as_i64()
                .unwrap_or(0)
                + total
        );
    } else {
        inv["pre_payment_credit_notes_amount"] =
            json!(inv["pre_payment_credit_notes_amount"].as_i64().unwrap_or(0) + total);
        for f in ["amount_due", "amount_remaining"] {
            inv[f] = json!(inv[f].as_i64().unwrap_or(0) - total);
        }
        if inv["amount_remaining"].as_i64() == Some(0) {
            // Credited in full: nothing is left to pay.
            inv["status"] = json!("paid");
            inv["paid"] = json!(true);
            inv["paid_out_of_band"] = json!(true);
            inv["auto_advance"] = json!(false);
            inv["status_transitions"]["paid_at"] = json!(t);
        }
    }
    d.credit_notes.push(note.clone());
    d.emit("credit_note.created", &note, ctx.idempotency_key.as_deref());
    Ok(note)
}

/// One requested line: its amount, and its credit note line object appended to `out`.
fn credited_line(
    d: &mut Data,
    inv: &Value,
    l: &Line<'_>,
    out: &mut Vec<Value>,
) -> Result<i64, StripeError> {
    let kind = l.get("type").ok_or_else(|| missing(&l.param("type")))?;
    for (f, _) in &l.fields {
        if ![
            "type",
            "amount",
            "description",
            "invoice_line_item",
            "quantity",
            "unit_amount",
            "unit_amount_decimal",
            "tax_rates",
        ]
        .contains(f)
        {
            let name = l.param(f);
            return Err(invalid(
                "parameter_unknown",
                &name,
                format!("Received unknown parameter: {name}"),
            ));
        }
    }
    let quantity = l.int("quantity")?;
    let amount = l.int("amount")?;
    match kind {
        "invoice_line_item" => {
            let item = l
                .get("invoice_line_item")
                .ok_or_else(|| missing(&l.param("invoice_line_item")))?;
            let line = inv["lines"]["data"]
                .as_array()
                .and_then(|ls| ls.iter().find(|x| x["id"] == item))
                .ok_or_else(|| {
                    invalid(
                        "resource_missing",
                        &l.param("invoice_line_item"),
                        format!(
                            "No such invoice line item: '{item}' on invoice {}",
                            inv["id"].as_str().unwrap_or("")
                        ),
                    )
                })?;
            let line_qty = line["quantity"].as_i64().unwrap_or(1).max(1);
            let line_amount = line["amount"].as_i64().unwrap_or(0);
            let credited = match (amount, quantity) {
                (Some(a), _) => a,
                (None, Some(q)) if (1..=line_qty).contains(&q) => line_amount / line_qty * q,
                (None, Some(_)) => {
                    return Err(invalid(
                        "parameter_invalid_integer",
                        &l.param("quantity"),
                        format!(
                            "The quantity may be at most the invoice line's quantity ({line_qty})."
                        ),
                    ));
                }
                (None, None) => return Err(missing(&l.param("quantity"))),
            };
            if credited <= 0 || credited > line_amount {
                return Err(invalid(
                    "parameter_invalid_integer",
                    &l.param("amount"),
                    format!(
                        "A line may credit from 1 to the invoice line's amount ({}).",
                        cents(line_amount)
                    ),
                ));
            }
            let desc = line["description"].as_str().unwrap_or("").to_string();
            out.push(line_json(
                d,
                "invoice_line_item",
                credited,
                quantity.unwrap_or(1),
                None,
                &desc,
                Some(item),
            ));
            Ok(credited)
        }
        "custom_line_item" => {
            let desc = l
                .get("description")
                .ok_or_else(|| missing(&l.param("description")))?
                .to_string();
            let unit = l
                .int("unit_amount")?
                .ok_or_else(|| missing(&l.param("unit_amount")))?;
            let q = quantity.unwrap_or(1);
            if unit <= 0 || q <= 0 {
                return Err(invalid(
                    "parameter_invalid_integer",
                    &l.param("unit_amount"),
                    "unit_amount and quantity must be positive integers.".into(),
                ));
            }
            out.push(line_json(
                d,
                "custom_line_item",
                unit * q,
                q,
                Some(unit),
                &desc,
                None,
            ));
            Ok(unit * q)
        }
        other => Err(invalid(
            "parameter_invalid_string",
            &l.param("type"),
            format!(
                "Invalid type: must be one of custom_line_item or invoice_line_item; got '{other}'"
            ),
        )),
    }
}

fn line_json(
    d: &mut Data,
    kind: &str,
    amount: i64,
    quantity: i64,
    unit: Option<i64>,
    description: &str,
    item: Option<&str>,
) -> Value {
    let id = d.new_id("cnli");
    let mut l = json!({
        "id": id, "object": "credit_note_line_item", "amount": amount, "amount_excluding_tax": amount, "description": description,
        "discount_amount": 0, "discount_amounts": [], "livemode": false, "quantity": quantity, "tax_amounts": [], "tax_rates": [],
        "type": kind, "unit_amount": unit, "unit_amount_decimal": unit.map(|u| u.to_string()),
        "unit_amount_excluding_tax": (amount / quantity.max(1)).to_string(),
    });
    if let Some(i) = item {
        l["invoice_line_item"] = json!(i);
    }
    l
}

/// Refunds `amount` of the invoice's succeeded charge; the refund id.
fn refund_charge(d: &mut Data, invoice: &str, amount: i64) -> Result<String, StripeError> {
    let pos = d.charges.iter().position(|c| c["invoice"] == invoice && c["status"] == "succeeded").ok_or_else(|| {
        invalid("parameter_invalid_integer", "refund_amount", format!("Invoice {invoice} has no successful charge to refund; use credit_amount or out_of_band_amount."))
    })?;
    let ch = &d.charges[pos];
    let left =
        ch["amount_captured"].as_i64().unwrap_or(0) - ch["amount_refunded"].as_i64().unwrap_or(0);
    if amount > left {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("amount_too_large"),
            Some("refund_amount"),
            format!(
                "Refund amount ({}) is greater than unrefunded amount on charge ({})",
                cents(amount),
                cents(left)
            ),
        ));
    }
    let id = d.new_id("re");
    let ch = &d.charges[pos];
    let refund = json!({
        "id": id, "object": "refund", "amount": amount, "balance_transaction": format!("txn_{}", &id[3..]), "charge": ch["id"],
        "created": now(), "currency": ch["currency"], "metadata": {}, "payment_intent": ch["payment_intent"], "reason": null,
        "receipt_number": null, "source_transfer_reversal": null, "status": "succeeded", "transfer_reversal": null,
    });
    let ch = &mut d.charges[pos];
    let refunded = ch["amount_refunded"].as_i64().unwrap_or(0) + amount;
    ch["amount_refunded"] = json!(refunded);
    ch["refunded"] = json!(refunded == ch["amount_captured"].as_i64().unwrap_or(0));
    if let Some(list) = ch["refunds"]["data"].as_array_mut() {
        list.insert(0, refund.clone());
    }
    d.refunds.push(refund);
    Ok(id)
}

fn cents(n: i64) -> String {
    format!("${}.{:02}", n / 100, n.abs() % 100)
}
