//! DCAT-AP 3 descriptions of the catalog and of each dataset, as ckanext-dcat serves them
//! (`/catalog.{ttl,rdf,jsonld}` with Hydra paging, `/dataset/{id}.{ttl,rdf,jsonld}`), written
//! as Turtle, RDF/XML and JSON-LD from one list of triples. The serialisers are small and
//! written here: the well-kept Rust RDF crates are not in this build's offline registry, and
//! three formats over a flat triple list need only correct escaping, which the tests prove by
//! parsing every format with rdflib (pyshacl) and validating against the DCAT-AP shapes.

use crate::domain::*;
use sharing::catalog::domain::{OpenKind, UpdateCycle};
use std::fmt::Write;

pub const DCAT: &str = "http://www.w3.org/ns/dcat#";
pub const DCT: &str = "http://purl.org/dc/terms/";
pub const FOAF: &str = "http://xmlns.com/foaf/0.1/";
pub const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
pub const XSD: &str = "http://www.w3.org/2001/XMLSchema#";
pub const VCARD: &str = "http://www.w3.org/2006/vcard/ns#";
pub const HYDRA: &str = "http://www.w3.org/ns/hydra/core#";
pub const SKOS: &str = "http://www.w3.org/2004/02/skos/core#";
pub const RDFS: &str = "http://www.w3.org/2000/01/rdf-schema#";

const PREFIXES: [(&str, &str); 9] = [
    ("rdfs", RDFS),
    ("dcat", DCAT),
    ("dct", DCT),
    ("foaf", FOAF),
    ("rdf", RDF),
    ("xsd", XSD),
    ("vcard", VCARD),
    ("hydra", HYDRA),
    ("skos", SKOS),
];

/// EU vocabularies the values point into (DCAT-AP's controlled vocabularies).
const EU: &str = "http://publications.europa.eu/resource/authority/";

#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Iri(String),
    Lit(String, Option<&'static str>),
    Lang(String, &'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Triple {
    pub s: String,
    pub p: String,
    pub o: Term,
}

/// The triples being built, subjects in the order they were first named.
#[derive(Debug, Default)]
pub struct Graph {
    pub triples: Vec<Triple>,
}

impl Graph {
    fn add(&mut self, s: &str, p: &str, o: Term) {
        self.triples.push(Triple {
            s: s.into(),
            p: p.into(),
            o,
        });
    }
    fn iri(&mut self, s: &str, p: &str, o: &str) {
        self.add(s, p, Term::Iri(o.into()));
    }
    fn a(&mut self, s: &str, class: &str) {
        self.iri(s, &format!("{RDF}type"), class);
    }
    fn zh(&mut self, s: &str, p: &str, v: &str) {
        self.add(s, p, Term::Lang(v.into(), "zh"));
    }
    fn lit(&mut self, s: &str, p: &str, v: &str) {
        self.add(s, p, Term::Lit(v.into(), None));
    }
    fn typed(&mut self, s: &str, p: &str, v: &str, dt: &'static str) {
        self.add(s, p, Term::Lit(v.into(), Some(dt)));
    }
    fn time(&mut self, s: &str, p: &str, ms: i64) {
        let t = chrono::DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        self.typed(s, p, &t, "dateTime");
    }
}

fn dct(p: &str) -> String {
    format!("{DCT}{p}")
}
fn dcat(p: &str) -> String {
    format!("{DCAT}{p}")
}

pub fn dataset_iri(base: &str, d: &Dataset) -> String {
    format!("{base}/dataset/{}", d.name)
}

fn agent(g: &mut Graph, base: &str, d: &Dataset) -> String {
    let a = format!("{base}/organization/{}", d.org_name());
    g.a(&a, &format!("{FOAF}Agent"));
    g.zh(&a, &format!("{FOAF}name"), &d.org_title);
    // The publisher's kind, from the EU publisher-type vocabulary: a local authority.
    let t = format!("{EU}publisher-type/LocalAuthority");
    g.iri(&a, &dct("type"), &t);
    concept(g, &t, "地方政府部门");
    a
}

/// A value from a controlled vocabulary, described as its concept so a harvester without the
/// vocabulary loaded still reads its label.
fn concept(g: &mut Graph, iri: &str, label: &str) {
    g.zh(iri, &format!("{SKOS}prefLabel"), label);
}

fn frequency(c: UpdateCycle) -> &'static str {
    match c {
        UpdateCycle::Realtime => "CONT",
        UpdateCycle::Daily => "DAILY",
        UpdateCycle::Weekly => "WEEKLY",
        UpdateCycle::Monthly => "MONTHLY",
        UpdateCycle::Quarterly => "QUARTERLY",
        UpdateCycle::HalfYearly => "ANNUAL_2",
        UpdateCycle::Yearly => "ANNUAL",
        UpdateCycle::Irregular => "IRREG",
    }
}

/// Adds one dataset with its distributions.
pub fn add_dataset(g: &mut Graph, base: &str, d: &Dataset) -> String {
    let s = dataset_iri(base, d);
    g.a(&s, &dcat("Dataset"));
    g.zh(&s, &dct("title"), &d.title);
    g.zh(&s, &dct("description"), &d.notes);
    g.lit(&s, &dct("identifier"), &d.code);
    g.iri(
        &s,
        &dcat("landingPage"),
        &format!("{base}/opendata/dataset/{}", d.name),
    );
    g.a(
        &format!("{base}/opendata/dataset/{}", d.name),
        &format!("{FOAF}Document"),
    );
    let a = agent(g, base, d);
    g.iri(&s, &dct("publisher"), &a);
    for t in &d.tags {
        g.zh(&s, &dcat("keyword"), t);
    }
    g.time(&s, &dct("issued"), d.created);
    g.time(&s, &dct("modified"), d.modified);
    g.lit(&s, &dcat("version"), &d.version.to_string());
    let freq = format!("{EU}frequency/{}", frequency(d.update_cycle));
    g.iri(&s, &dct("accrualPeriodicity"), &freq);
    g.a(&freq, &dct("Frequency"));
    concept(g, &freq, d.update_cycle.label());
    let lang = format!("{EU}language/ZHO");
    g.iri(&s, &dct("language"), &lang);
    g.a(&lang, &dct("LinguisticSystem"));
    let rights = format!(
        "{EU}access-right/{}",
        if d.open_kind == OpenKind::Conditional {
            "RESTRICTED"
        } else {
            "PUBLIC"
        }
    );
    g.iri(&s, &dct("accessRights"), &rights);
    g.a(&rights, &dct("RightsStatement"));
    concept(g, &rights, d.open_kind.label());
    let theme = format!("{base}/opendata/themes/{}", d.group_name());
    g.iri(&s, &dcat("theme"), &theme);
    // The catalog's own categories are concepts this portal defines (the EU data themes
    // have no 基础/主题/部门 split).
    g.a(&theme, &format!("{SKOS}Concept"));
    concept(g, &theme, d.category.label());
    let contact = format!("{base}/organization/{}#contact", d.org_name());
    g.iri(&s, &dcat("contactPoint"), &contact);
    g.a(&contact, &format!("{VCARD}Organization"));
    g.a(&contact, &format!("{VCARD}Kind"));
    g.zh(&contact, &format!("{VCARD}fn"), &d.org_title);
    g.iri(
        &contact,
        &format!("{VCARD}hasURL"),
        &format!("{base}/opendata/search?organization={}", d.org_name()),
    );
    let l = d.license();
    let lic = format!("{base}/opendata/licenses#{}", l.id);
    g.a(&lic, &dct("LicenseDocument"));
    g.zh(&lic, &dct("title"), l.title);
    for r in &d.distributions {
        let dist = format!("{s}/resource/{}", r.id);
        g.iri(&s, &dcat("distribution"), &dist);
        g.a(&dist, &dcat("Distribution"));
        g.zh(&dist, &dct("title"), &r.name);
        g.zh(
            &dist,
            &dct("description"),
            &format!("共 {} 行；字段：{}", r.rows, r.columns.join("、")),
        );
        let url = format!("{base}/opendata/download/{}", r.id);
        g.iri(&dist, &dcat("accessURL"), &url);
        g.iri(&dist, &dcat("downloadURL"), &url);
        g.a(&url, &format!("{RDFS}Resource"));
        let media = format!(
            "http://www.iana.org/assignments/media-types/{}",
            r.format.mime()
        );
        g.iri(&dist, &dcat("mediaType"), &media);
        g.a(&media, &dct("MediaType"));
        let fmt = format!("{EU}file-type/{}", r.format.label());
        g.iri(&dist, &dct("format"), &fmt);
        g.a(&fmt, &dct("MediaTypeOrExtent"));
        g.iri(&dist, &dct("license"), &lic);
        g.iri(&dist, &dct("accessRights"), &rights);
        g.time(&dist, &dct("issued"), r.created);
        if let Some(m) = r.modified {
            g.time(&dist, &dct("modified"), m);
        }
    }
    s
}

/// A page of the catalog: its datasets and Hydra's paging, as ckanext-dcat writes it.
pub struct CatalogPage<'a> {
    pub base: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub publisher: &'a str,
    /// The address of this document without its query (`…/catalog.ttl`).
    pub doc: &'a str,
    /// Other query parameters kept on the page links (`modified_since=…`).
    pub keep: &'a str,
    pub page: usize,
    pub per_page: usize,
    pub total: usize,
    pub datasets: &'a [Dataset],
    pub modified: i64,
}

pub fn catalog(c: &CatalogPage<'_>) -> Graph {
    let mut g = Graph::default();
    let s = format!("{}/catalog", c.base);
    g.a(&s, &dcat("Catalog"));
    g.zh(&s, &dct("title"), c.title);
    g.zh(&s, &dct("description"), c.description);
    g.iri(
        &s,
        &format!("{FOAF}homepage"),
        &format!("{}/opendata", c.base),
    );
    g.a(&format!("{}/opendata", c.base), &format!("{FOAF}Document"));
    let lang = format!("{EU}language/ZHO");
    g.iri(&s, &dct("language"), &lang);
    g.a(&lang, &dct("LinguisticSystem"));
    g.time(&s, &dct("modified"), c.modified);
    let p = format!("{}/organization/bureau", c.base);
    g.a(&p, &format!("{FOAF}Agent"));
    g.zh(&p, &format!("{FOAF}name"), c.publisher);
    let t = format!("{EU}publisher-type/LocalAuthority");
    g.iri(&p, &dct("type"), &t);
    concept(&mut g, &t, "地方政府部门");
    g.iri(&s, &dct("publisher"), &p);
    for d in c.datasets {
        let ds = add_dataset(&mut g, c.base, d);
        g.iri(&s, &dcat("dataset"), &ds);
    }
    let pages = c.total.div_ceil(c.per_page).max(1);
    let link = |n: usize| {
        if c.keep.is_empty() {
            format!("{}?page={n}", c.doc)
        } else {
            format!("{}?{}&page={n}", c.doc, c.keep)
        }
    };
    let h = link(c.page);
    g.a(&h, &format!("{HYDRA}PagedCollection"));
    g.typed(
        &h,
        &format!("{HYDRA}totalItems"),
        &c.total.to_string(),
        "integer",
    );
    g.typed(
        &h,
        &format!("{HYDRA}itemsPerPage"),
        &c.per_page.to_string(),
        "integer",
    );
    g.lit(&h, &format!("{HYDRA}firstPage"), &link(1));
    g.lit(&h, &format!("{HYDRA}lastPage"), &link(pages));
    if c.page < pages {
        g.lit(&h, &format!("{HYDRA}nextPage"), &link(c.page + 1));
    }
    if c.page > 1 {
        g.lit(&h, &format!("{HYDRA}previousPage"), &link(c.page - 1));
    }
    g
}

pub fn dataset_graph(base: &str, d: &Dataset) -> Graph {
    let mut g = Graph::default();
    add_dataset(&mut g, base, d);
    g
}

// ---- serialisers ----

fn esc_turtle(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    for ch in s.chars() {
        match ch {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04X}", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

/// An IRI as Turtle writes it: `<…>` with the characters IRIREF forbids escaped.
fn iri_ref(i: &str) -> String {
    let mut o = String::from("<");
    for ch in i.chars() {
        if matches!(ch, '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\') || (ch as u32) <= 0x20
        {
            let _ = write!(o, "%{:02X}", ch as u32);
        } else {
            o.push(ch);
        }
    }
    o.push('>');
    o
}

fn qname(i: &str) -> Option<String> {
    PREFIXES.iter().find_map(|(p, ns)| {
        i.strip_prefix(ns)
            .filter(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .map(|l| format!("{p}:{l}"))
    })
}

fn term_ttl(i: &str) -> String {
    qname(i).unwrap_or_else(|| iri_ref(i))
}

fn subjects(g: &Graph) -> Vec<(&str, Vec<&Triple>)> {
    let mut order: Vec<&str> = Vec::new();
    let mut by: std::collections::HashMap<&str, Vec<&Triple>> = Default::default();
    for t in &g.triples {
        let e = by.entry(t.s.as_str()).or_default();
        if e.is_empty() {
            order.push(&t.s);
        }
        if !e.contains(&t) {
            e.push(t);
        }
    }
    order
        .into_iter()
        .map(|s| (s, by.remove(s).unwrap_or_default()))
        .collect()
}

pub fn turtle(g: &Graph) -> String {
    let mut o = String::new();
    for (p, ns) in PREFIXES {
        let _ = writeln!(o, "@prefix {p}: <{ns}> .");
    }
    for (s, ts) in subjects(g) {
        let _ = write!(o, "\n{}", iri_ref(s));
        for (i, t) in ts.iter().enumerate() {
            let p = if t.p == format!("{RDF}type") {
                "a".to_owned()
            } else {
                term_ttl(&t.p)
            };
            let obj = match &t.o {
                Term::Iri(x) => term_ttl(x),
                Term::Lit(v, None) => format!("\"{}\"", esc_turtle(v)),
                Term::Lit(v, Some(dt)) => format!("\"{}\"^^xsd:{dt}", esc_turtle(v)),
                Term::Lang(v, l) => format!("\"{}\"@{l}", esc_turtle(v)),
            };
            let sep = if i + 1 == ts.len() { " ." } else { " ;" };
            let _ = write!(o, "\n    {p} {obj}{sep}");
        }
        o.push('\n');
    }
    o
}

fn esc_xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\r' => o.push_str("&#13;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t') => {}
            c => o.push(c),
        }
    }
    o
}

pub fn rdf_xml(g: &Graph) -> String {
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rdf:RDF");
    for (p, ns) in PREFIXES {
        let _ = write!(o, "\n  xmlns:{p}=\"{ns}\"");
    }
    o.push_str(">\n");
    for (s, ts) in subjects(g) {
        let _ = writeln!(o, "  <rdf:Description rdf:about=\"{}\">", esc_xml(s));
        for t in ts {
            // A predicate outside the declared prefixes gets its namespace on the element.
            let (q, decl) = match qname(&t.p) {
                Some(q) => (q, String::new()),
                None => {
                    let cut = t.p.rfind(['#', '/']).map_or(0, |i| i + 1);
                    (
                        format!("n:{}", &t.p[cut..]),
                        format!(" xmlns:n=\"{}\"", esc_xml(&t.p[..cut])),
                    )
                }
            };
            let q = q.as_str();
            let open = format!("{q}{decl}");
            match &t.o {
                Term::Iri(x) => {
                    let _ = writeln!(o, "    <{open} rdf:resource=\"{}\"/>", esc_xml(x));
                }
                Term::Lit(v, None) => {
                    let _ = writeln!(o, "    <{open}>{}</{q}>", esc_xml(v));
                }
                Term::Lit(v, Some(dt)) => {
                    let _ = writeln!(
                        o,
                        "    <{open} rdf:datatype=\"{XSD}{dt}\">{}</{q}>",
                        esc_xml(v)
                    );
                }
                Term::Lang(v, l) => {
                    let _ = writeln!(o, "    <{open} xml:lang=\"{l}\">{}</{q}>", esc_xml(v));
                }
            }
        }
        o.push_str("  </rdf:Description>\n");
    }
    o.push_str("</rdf:RDF>\n");
    o
}

/// JSON-LD in expanded form (full IRIs, no context to fetch: the portal works offline).
pub fn json_ld(g: &Graph) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let mut nodes = Vec::new();
    for (s, ts) in subjects(g) {
        let mut n = Map::new();
        n.insert("@id".into(), json!(s));
        for t in ts {
            if t.p == format!("{RDF}type") {
                if let Term::Iri(c) = &t.o {
                    if let Some(a) = n.entry("@type").or_insert_with(|| json!([])).as_array_mut() {
                        a.push(json!(c));
                    }
                }
                continue;
            }
            let v = match &t.o {
                Term::Iri(x) => json!({"@id": x}),
                Term::Lit(v, None) => json!({"@value": v}),
                Term::Lit(v, Some(dt)) => json!({"@value": v, "@type": format!("{XSD}{dt}")}),
                Term::Lang(v, l) => json!({"@value": v, "@language": l}),
            };
            if let Some(Value::Array(a)) = n.get_mut(&t.p) {
                a.push(v);
            } else {
                n.insert(t.p.clone(), json!([v]));
            }
        }
        nodes.push(Value::Object(n));
    }
    Value::Array(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_iris_are_escaped() {
        let mut g = Graph::default();
        g.zh(
            "http://x/a",
            "http://purl.org/dc/terms/title",
            "引号\"与\\和\n换行",
        );
        g.iri("http://x/a", "http://x/p q", "http://x/<b>");
        let t = turtle(&g);
        assert!(t.contains(r#"dct:title "引号\"与\\和\n换行"@zh"#), "{t}");
        assert!(t.contains("<http://x/p%20q> <http://x/%3Cb%3E>"), "{t}");
        let x = rdf_xml(&g);
        assert!(x.contains("引号&quot;与\\和\n换行"), "{x}");
    }
}
