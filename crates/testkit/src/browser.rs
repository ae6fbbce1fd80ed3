//! A real headless Chromium (Debian's `chromium` and `chromium-driver`) driven over WebDriver.
//! Tests keep their screenshots under `artifacts/screenshots/<test>/`.

use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    shots: PathBuf,
    count: u32,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Browser {
    /// Starts Chromium; `None` (with a message) when it is not installed, except under CI.
    pub async fn start(test: &str) -> Option<Browser> {
        if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists()
        {
            if crate::pg_required() {
                panic!("Chromium and chromedriver are required under CI (apt-get install chromium chromium-driver)");
            }
            eprintln!("SKIPPED: {CHROMIUM} or {CHROMEDRIVER} missing; apt-get install chromium chromium-driver");
            return None;
        }
        let port = free_port();
        // Date, week and month pickers follow the browser's locale (the environment and the
        // zh-CN pack of Debian's chromium-l10n), not the page's `lang`: a zh-CN browser, as the
        // bureau's staff have.
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .env("LANG", "zh_CN.UTF-8")
            .env("LANGUAGE", "zh_CN:zh")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--lang=zh-CN", "--window-size=1366,768",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let caps = caps.as_object().cloned().expect("object");
        let mut last_err = None;
        for _ in 0..50 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => {
                    let shots = crate::artifacts_dir(&format!("screenshots/{test}"));
                    for old in std::fs::read_dir(&shots).into_iter().flatten().flatten() {
                        let _ = std::fs::remove_file(old.path());
                    }
                    return Some(Browser {
                        client,
                        driver,
                        _profile: profile,
                        shots,
                        count: 0,
                    });
                }
                Err(e) => {
                    last_err = Some(e.to_string());
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        panic!("could not connect to chromedriver: {last_err:?}");
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    pub async fn set_size(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("window size");
    }

    /// Saves a PNG of the current page as `NN-label.png` and returns its path.
    pub async fn screenshot(&mut self, label: &str) -> PathBuf {
        self.count += 1;
        let png = self.client.screenshot().await.expect("screenshot");
        let path = self.shots.join(format!("{:02}-{label}.png", self.count));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let el = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"));
        el.clear().await.ok();
        el.send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks something that loads a new page (a submit button, a link) and waits until the
    /// new page has loaded.
    pub async fn click_and_wait(&self, css: &str) {
        self.client
            .execute("window.__yiwang_old_page = true; return true;", vec![])
            .await
            .expect("mark page");
        self.click(css).await;
        self.wait_for_new_page().await;
    }

    /// Types keys into an element (WebDriver keeps modifiers such as `\u{E009}` Control down
    /// until the end) when that loads a new page, and waits for it.
    pub async fn keys_and_wait(&self, css: &str, keys: &str) {
        self.client
            .execute("window.__yiwang_old_page = true; return true;", vec![])
            .await
            .expect("mark page");
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
        self.wait_for_new_page().await;
    }

    async fn wait_for_new_page(&self) {
        for _ in 0..200 {
            let v = self
                .client
                .execute("return (window.__yiwang_old_page === undefined) && document.readyState === 'complete';", vec![])
                .await;
            if matches!(v, Ok(serde_json::Value::Bool(true))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page did not change within 10 s");
    }

    /// Waits (up to 10 s) for an element to appear — after a page that moves on by itself, or
    /// a redirect through another server — and returns its text.
    pub async fn wait_for(&self, css: &str) -> String {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
            .text()
            .await
            .expect("text")
    }

    pub async fn select(&self, css: &str, value: &str) {
        let el = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"));
        el.select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
            .text()
            .await
            .expect("text")
    }

    pub async fn body_text(&self) -> String {
        self.text("body").await
    }

    pub async fn current_path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("url")
            .path()
            .to_owned()
    }

    /// Every URL the page loaded (document, styles, scripts, images), from the Resource Timing API.
    pub async fn loaded_urls(&self) -> Vec<String> {
        let v = self
            .client
            .execute(
                "return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name));",
                vec![],
            )
            .await
            .expect("resource timing");
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
