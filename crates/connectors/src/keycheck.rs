//! The cheap read call that proves a pasted API key / private-app token works, per provider, as
//! data: method, path (appended to the entry's `api_base_url`) and how the key is sent. The API
//! layer makes the request; this crate does no I/O.

use crate::{AuthMode, ProviderEntry};

/// How a pasted key travels in the check request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyHeader {
    /// `Authorization: Bearer KEY`.
    Bearer,
}

/// One check request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCheck {
    pub method: &'static str,
    /// Path and query, appended to `api_base_url`.
    pub path: &'static str,
    pub header: KeyHeader,
}

impl AuthMode {
    /// Whether this mode is a key or token the user pastes (and Switchboard checks and keeps).
    pub fn is_pasted_key(self) -> bool {
        matches!(self, Self::ApiKey | Self::PrivateAppToken | Self::RestrictedKey | Self::BotToken)
    }
}

/// The check request for `provider_id` (a `-sandbox` entry uses its real provider's), or `None`
/// when checking keys for that provider is not supported yet.
pub fn key_check(provider_id: &str) -> Option<KeyCheck> {
    let real = provider_id.strip_suffix(ProviderEntry::SANDBOX_SUFFIX).unwrap_or(provider_id);
    match real {
        // Lists at most one contact: needs only `crm.objects.contacts.read`.
        "hubspot" => Some(KeyCheck { method: "GET", path: "/crm/v3/objects/contacts?limit=1", header: KeyHeader::Bearer }),
        // Lists at most one customer: needs only the `customer_read` permission, which every
        // key Switchboard is given for billing work holds (it is in the read-only set).
        "stripe" => Some(KeyCheck { method: "GET", path: "/customers?limit=1", header: KeyHeader::Bearer }),
        // Who the token is; needs no scope. A bad token is HTTP 200 `{"ok": false, "error":
        // "invalid_auth"}`, which `failure_in_success` reports as a refused credential.
        "slack" => Some(KeyCheck { method: "GET", path: "/auth.test", header: KeyHeader::Bearer }),
        // The signed-in mailbox's address and counts; any Gmail read scope allows it (1 unit).
        "gmail" => Some(KeyCheck { method: "GET", path: "/users/me/profile", header: KeyHeader::Bearer }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_and_its_sandbox_share_one_check_and_others_say_unsupported() {
        let real = key_check("hubspot").expect("hubspot keys should be checkable");
        assert_eq!(key_check("hubspot-sandbox"), Some(real), "the sandbox entry should be checked like the real provider");
        assert_eq!(real.method, "GET");
        assert!(key_check("shopify").is_none(), "providers without a check yet must say so, not pretend");
        assert_eq!(key_check("stripe-sandbox").map(|c| c.path), Some("/customers?limit=1"));
        assert_eq!(key_check("slack-sandbox").map(|c| c.path), Some("/auth.test"), "Slack bot tokens are checked with auth.test");
        assert!(AuthMode::PrivateAppToken.is_pasted_key() && !AuthMode::OauthPublic.is_pasted_key() && !AuthMode::Basic.is_pasted_key());
    }
}
