//! The jiazheng web server: server-rendered pages (zh-CN and en) and the JSON API under
//! `/api/v1`, both over one `Store`.

#[macro_use]
extern crate rust_i18n;
i18n!("locales", fallback = "zh-CN");

pub mod api;
pub mod auth;
pub mod cache;
pub mod error;
pub mod i18n;
pub mod pages;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use jiazheng_store::Store;
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::AppError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub limiter: Arc<auth::LoginLimiter>,
    pub config: Arc<Config>,
    pub reports: Arc<pages::import::ReportCache>,
    pub home_stats: Arc<cache::Ttl<pages::public::HomeStats>>,
    pub districts: Arc<cache::Ttl<Vec<jiazheng_store::registry::divisions::Division>>>,
}

impl AppState {
    /// The city's districts, re-read every five minutes.
    pub async fn districts(&self) -> Result<Arc<Vec<jiazheng_store::registry::divisions::Division>>, AppError> {
        Ok(self.districts.get_or_try(|| self.store.districts()).await?)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Mark cookies Secure: set when the platform is served over TLS (directly or by a proxy).
    pub secure_cookies: bool,
}

/// All routes: pages, API, docs, health and static files.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::router())
        .nest("/api/v1", api::router())
        .merge(api::docs())
        .route("/healthz", axum::routing::get(healthz))
        .route("/static/{file}", axum::routing::get(pages::assets::serve))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(error::render_html_errors))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

/// A bound, ready server; tests build it on port 0 and read the port back.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    pub async fn build(store: Store, bind: &str, config: Config) -> std::io::Result<Self> {
        let listener = TcpListener::bind(bind).await?;
        let state = AppState {
            store,
            limiter: Arc::new(auth::LoginLimiter::default()),
            config: Arc::new(config),
            reports: Arc::new(pages::import::ReportCache::default()),
            home_stats: Arc::new(cache::Ttl::new(std::time::Duration::from_secs(30))),
            districts: Arc::new(cache::Ttl::new(std::time::Duration::from_secs(300))),
        };
        Ok(Self { listener, router: router(state) })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub async fn run(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>()).await
    }

    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
    }
}
