//! The stdio bridge behind `switchboard mcp --token-env VAR`: an MCP server on stdin/stdout
//! whose every request is forwarded, through an rmcp Streamable HTTP client carrying the agent's
//! token, to the running gateway's `/mcp`, and whose every notification from the gateway
//! (`tools/list_changed`, resource updates, progress, log messages) is passed back down. So an
//! agent that launches servers as commands shares the gateway's budgets, queue and audit log
//! with every other agent, and sees exactly the tools its grants allow.
//!
//! The bridge holds no logic of its own: it connects first (so a wrong token fails at once with
//! the gateway's own words), then relays. The token is sent only to the gateway on 127.0.0.1.

use std::sync::{Arc, OnceLock};

use rmcp::model::{
    ClientConfig, ClientNotification, ClientRequest, ClientResult, ErrorData, ServerConfig,
    ServerNotification, ServerRequest, ServerResult,
};
use rmcp::service::{NotificationContext, RequestContext, RunningService, ServiceError};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{Peer, RoleClient, RoleServer, Service, ServiceExt};
use switchboard_core::{ApiError, ErrorCode};

/// The agent-side peer, once the agent has sent `initialize`.
type Downstream = Arc<OnceLock<Peer<RoleServer>>>;

fn relay_error(e: ServiceError) -> ErrorData {
    match e {
        ServiceError::McpError(e) => e,
        other => ErrorData::internal_error(
            format!("the Switchboard gateway did not answer: {other}"),
            None,
        ),
    }
}

/// The gateway-facing side: requests and notifications the gateway sends go to the agent.
struct FromGateway {
    downstream: Downstream,
}

impl Service<RoleClient> for FromGateway {
    async fn handle_request(
        &self,
        request: ServerRequest,
        _context: RequestContext<RoleClient>,
    ) -> Result<ClientResult, ErrorData> {
        let Some(agent) = self.downstream.get() else {
            return Err(ErrorData::internal_error(
                "the agent has not finished initializing",
                None,
            ));
        };
        agent.send_request(request).await.map_err(relay_error)
    }

    async fn handle_notification(
        &self,
        notification: ServerNotification,
        _context: NotificationContext<RoleClient>,
    ) -> Result<(), ErrorData> {
        if let Some(agent) = self.downstream.get() {
            agent
                .send_notification(notification)
                .await
                .map_err(relay_error)?;
        }
        Ok(())
    }

    fn get_info(&self) -> ClientConfig {
        let mut info = ClientConfig::default();
        info.client_info =
            rmcp::model::Implementation::new("switchboard-mcp-stdio", switchboard_core::VERSION);
        info
    }
}

/// The agent-facing side: everything the agent asks goes to the gateway.
struct ToGateway {
    gateway: Peer<RoleClient>,
    info: ServerConfig,
    downstream: Downstream,
}

impl Service<RoleServer> for ToGateway {
    async fn handle_request(
        &self,
        request: ClientRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<ServerResult, ErrorData> {
        match request {
            ClientRequest::InitializeRequest(_) => {
                let _ = self.downstream.set(context.peer.clone());
                Ok(ServerResult::InitializeResult(self.info.clone()))
            }
            other => self.gateway.send_request(other).await.map_err(relay_error),
        }
    }

    async fn handle_notification(
        &self,
        notification: ClientNotification,
        _context: NotificationContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        // The bridge's own session with the gateway is already initialized.
        if matches!(notification, ClientNotification::InitializedNotification(_)) {
            return Ok(());
        }
        self.gateway
            .send_notification(notification)
            .await
            .map_err(relay_error)
    }

    fn get_info(&self) -> ServerConfig {
        self.info.clone()
    }
}

/// A session with the gateway's `/mcp`, opened with the agent's token.
pub struct Bridge {
    gateway: RunningService<RoleClient, FromGateway>,
    downstream: Downstream,
}

impl Bridge {
    /// Connects to `mcp_url` (`http://127.0.0.1:PORT/mcp`) as the agent `token` belongs to.
    /// A refused token is `unauthorized`, naming what to do.
    pub async fn connect(mcp_url: &str, token: &str) -> Result<Self, ApiError> {
        let config = StreamableHttpClientTransportConfig::with_uri(mcp_url.to_string())
            .auth_header(token.to_string());
        let transport = StreamableHttpClientTransport::with_client(loopback_client()?, config);
        let downstream: Downstream = Arc::new(OnceLock::new());
        let handler = FromGateway {
            downstream: downstream.clone(),
        };
        let gateway = handler.serve(transport).await.map_err(|e| {
            let text = e.to_string();
            if text.contains("401") || text.to_ascii_lowercase().contains("auth") {
                ApiError::new(
                    ErrorCode::Unauthorized,
                    "the gateway refused the agent token (wrong or revoked?); create one with `switchboard agents add NAME` and pass it in the environment variable named by --token-env",
                )
            } else {
                ApiError::new(ErrorCode::ProviderUnreachable, format!("cannot open an MCP session with the gateway at {mcp_url}: {text}"))
            }
        })?;
        Ok(Self {
            gateway,
            downstream,
        })
    }

    /// What the gateway said about itself at `initialize`.
    pub fn server_info(&self) -> Result<ServerConfig, ApiError> {
        let peer = self
            .gateway
            .peer_info()
            .ok_or_else(|| ApiError::internal("the gateway sent no server info"))?;
        let mut info = ServerConfig::default();
        info.protocol_version = peer.protocol_version.clone();
        info.capabilities = peer.capabilities.clone();
        if let Some(server) = &peer.server_info {
            info.server_info = server.clone();
        }
        info.instructions = peer.instructions.clone();
        Ok(info)
    }

    /// Serves the agent on stdin/stdout until either side closes.
    pub async fn run_stdio(self) -> Result<(), ApiError> {
        let info = self.server_info()?;
        let to_gateway = ToGateway {
            gateway: self.gateway.peer().clone(),
            info,
            downstream: self.downstream.clone(),
        };
        let agent = to_gateway
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| {
                ApiError::bad_request(format!("the MCP client on stdin did not initialize: {e}"))
            })?;
        let _ = agent.waiting().await;
        let _ = self.gateway.cancel().await;
        Ok(())
    }
}

/// The HTTP client the bridge talks to the gateway with. rmcp's default client opens a new
/// TCP connection for every message (its pool is off), which costs the gateway a connection
/// set-up per tool call; this one keeps idle connections to the gateway and reuses them. The
/// gateway is on loopback: no proxy, no redirects.
pub fn loopback_client() -> Result<reqwest::Client, ApiError> {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|e| ApiError::internal(format!("cannot create the HTTP client for the gateway: {e}")))
}
