//! Stripe's `expand[]`: a field holding an object id is replaced by the object itself
//! (`expand[]=customer`), dotted paths go deeper (`data.latest_invoice.payment_intent` on a
//! list), at most four levels, and a field that holds no expandable id is refused as Stripe
//! refuses it.

use serde_json::Value;

use super::{Data, Params, StripeError, invalid};

/// Fields that hold the id of another object the sandbox keeps (Stripe marks them with
/// `x-expansionResources`).
const EXPANDABLE: &[&str] = &[
    "customer",
    "invoice",
    "latest_invoice",
    "payment_intent",
    "charge",
    "latest_charge",
    "subscription",
    "refund",
    "credit_note",
    "customer_balance_transaction",
];

/// The paths asked for with `expand[]=…` (or `expand[0]=…`).
fn paths(p: &Params) -> Vec<&str> {
    p.0.iter()
        .filter(|(k, _)| k == "expand" || (k.starts_with("expand[") && k.ends_with(']')))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// `v` with every requested expansion applied.
pub(super) fn apply(d: &Data, mut v: Value, p: &Params) -> Result<Value, StripeError> {
    for path in paths(p) {
        let parts: Vec<&str> = path.split('.').collect();
        if parts.len() > 4 || parts.iter().any(|s| s.is_empty()) {
            return Err(invalid(
                "parameter_invalid_string",
                "expand",
                format!(
                    "You cannot expand more than 4 levels of a property, or an empty one: {path}"
                ),
            ));
        }
        expand(d, &mut v, &parts, path)?;
    }
    Ok(v)
}

fn expand(d: &Data, v: &mut Value, parts: &[&str], whole: &str) -> Result<(), StripeError> {
    let Some((first, rest)) = parts.split_first() else {
        return Ok(());
    };
    let refuse = || {
        invalid(
            "parameter_invalid_string",
            "expand",
            format!("This property cannot be expanded ({whole})."),
        )
    };
    if *first != "data" && !EXPANDABLE.contains(first) {
        return Err(refuse());
    }
    let Some(field) = v.get_mut(*first) else {
        return Err(refuse());
    };
    if let (true, Value::Array(items)) = (*first == "data", &mut *field) {
        for item in items {
            expand(d, item, rest, whole)?;
        }
        return Ok(());
    }
    match field {
        Value::Null => Ok(()),
        Value::String(id) => {
            let found = lookup(d, id).ok_or_else(refuse)?;
            *field = found;
            expand(d, field, rest, whole)
        }
        Value::Object(_) if !rest.is_empty() => expand(d, field, rest, whole),
        Value::Object(_) => Ok(()),
        _ => Err(refuse()),
    }
}

/// The object an id names, by its prefix.
fn lookup(d: &Data, id: &str) -> Option<Value> {
    let list = match id.split_once('_')?.0 {
        "cus" => &d.customers,
        "in" => &d.invoices,
        "pi" => &d.payment_intents,
        "ch" => &d.charges,
        "sub" => &d.subscriptions,
        "re" => &d.refunds,
        "cn" => &d.credit_notes,
        "cbtxn" => &d.balance_transactions,
        _ => return None,
    };
    list.iter().find(|x| x["id"] == id).cloned()
}
