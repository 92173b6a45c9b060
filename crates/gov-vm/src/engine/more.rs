//! More data for a loaded engine without a new load: facts read from data documents,
//! validated as a bundle's data is, and the data-only relations evaluated again with them,
//! so that one engine decides requests against its data plus different extra facts (the
//! conflict analysis confirms each witness's request with that witness's data facts).

use super::{Decision, Engine, Load, NEXT_ENGINE_ID, Request};
use crate::json::{Document, Ids};
use crate::program::RelationKind;
use crate::store::Relation;
use crate::value::{StringIds, Value};
use crate::{EvalError, RequestError};
use std::sync::atomic::Ordering;

/// An engine's data with more facts ([`Engine::more_data`]): the data-only relations
/// evaluated over the engine's data and those facts, and the strings the facts brought.
/// Requests decided with it are read by [`Engine::request_with`] and decided by
/// [`Engine::decide_with`], exactly as an engine loaded from the program with the facts
/// added to its data would decide them.
#[derive(Debug)]
pub struct MoreData {
    /// The id of the engine it was made for.
    engine: u64,
    /// The id the requests read with it carry: they number strings after `strings`, which
    /// the engine's own requests do not.
    reader: u64,
    /// The strings of the facts that the program's table does not hold, then those built-ins
    /// made while evaluating the data-only relations, numbered from the table's end.
    strings: Vec<String>,
    /// The symbol of each of `strings`, by text.
    string_ids: StringIds,
    /// The data-only relations, one per relation of the program (the others empty).
    statics: Vec<Relation>,
}

/// Why [`Engine::more_data`] refused the facts.
#[derive(Debug, Clone, PartialEq)]
pub enum MoreDataError {
    /// A document does not fit the program's data relations (an unknown relation, a value
    /// of the wrong type): the document's name and the error, with its JSON path.
    Data {
        /// The name the caller gave the document.
        document: String,
        /// What is wrong, and where in the document.
        error: RequestError,
    },
    /// The facts break the program's rules for data, or evaluating the data-only relations
    /// with them failed (an overflow, a limit of [`Engine::more_data`]'s load limits).
    Eval(EvalError),
}

impl std::fmt::Display for MoreDataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MoreDataError::Data { document, error } => write!(f, "{document}: {error}"),
            MoreDataError::Eval(EvalError::Invalid(message)) => write!(f, "invalid data: {message}"),
            MoreDataError::Eval(error) => write!(f, "evaluating the data failed: {error}"),
        }
    }
}

impl std::error::Error for MoreDataError {}

impl Engine {
    /// The facts of `documents` (each named for errors) added to this engine's data, as
    /// if they were more data files of its bundle, without loading it again: each document
    /// is read against the program's data relations (`{"relation": [{"field": value, …}],
    /// …}`, as a data file), its lists and objects get the program's identifiers for
    /// contents its data holds and new ones above them otherwise, the facts are validated
    /// as a bundle's data is ([`crate::bundle::validate`]), and the data-only relations are
    /// evaluated over the whole data within the engine's load limits. A fact the data
    /// already states counts once. Costs one evaluation of the data-only relations, not a
    /// load: the program, its indexes and its string table are the engine's.
    pub fn more_data(&self, documents: &[(String, Document)]) -> Result<MoreData, MoreDataError> {
        let table = self.program.strings.len();
        let mut strings: Vec<String> = Vec::new();
        let mut string_ids = StringIds::default();
        let mut intern = |text: &str| -> u32 {
            if let Some(sym) = self.symbol(text).or_else(|| string_ids.get(text).copied()) {
                return sym;
            }
            // A symbol past `u32` is refused by the validation below.
            let sym = u32::try_from(table + strings.len()).unwrap_or(u32::MAX);
            strings.push(text.to_owned());
            string_ids.insert(text.to_owned(), sym);
            sym
        };
        let mut ids = Ids::continuing(&self.program);
        let mut facts = Vec::new();
        for (document, text) in documents {
            let read = crate::json::facts(&self.program, text, RelationKind::Data, &mut intern, &mut ids)
                .map_err(|error| MoreDataError::Data { document: document.clone(), error })?;
            facts.extend(read);
        }
        crate::bundle::validate_data(&self.program, &facts, table + strings.len())
            .map_err(|message| MoreDataError::Eval(EvalError::Invalid(message)))?;
        let (statics, made) = self.load_run().statics(&facts, &strings, &string_ids).map_err(MoreDataError::Eval)?;
        for text in made {
            let sym = u32::try_from(table + strings.len())
                .map_err(|_| MoreDataError::Eval(EvalError::Corrupt("too many strings")))?;
            string_ids.insert(text.clone(), sym);
            strings.push(text);
        }
        let reader = NEXT_ENGINE_ID.fetch_add(1, Ordering::Relaxed);
        Ok(MoreData { engine: self.id, reader, strings, string_ids, statics })
    }

    /// Reads a request to decide with `data` ([`Engine::decide_with`]), as
    /// [`Engine::request_from_json`] reads one: a string the data brought has the data's
    /// symbol, so the request's facts join the data's. Only `decide_with` and `data` accept
    /// it (the engine alone refuses it: its strings are numbered past the data's).
    pub fn request_with(&self, data: &MoreData, text: &str) -> Result<Request, RequestError> {
        self.check_more(data).map_err(|message| RequestError { path: String::new(), message })?;
        let mut request = self.request_from_json(text)?;
        let table = self.program.strings.len();
        let own = std::mem::take(&mut request.extra_strings);
        let mut strings = data.strings.clone();
        let mut string_ids = data.string_ids.clone();
        // The symbol each of the request's own strings gets: the data's, or a new one after
        // the data's strings.
        let mut renumbered = Vec::with_capacity(own.len());
        for text in own {
            let sym = match string_ids.get(&text) {
                Some(&sym) => sym,
                None => {
                    let sym = u32::try_from(table + strings.len()).map_err(|_| RequestError {
                        path: String::new(),
                        message: "the request and the data hold more strings than a symbol can number".to_owned(),
                    })?;
                    string_ids.insert(text.clone(), sym);
                    strings.push(text);
                    sym
                }
            };
            renumbered.push(sym);
        }
        for (_, values) in &mut request.facts {
            for value in values {
                if let Value::Str(sym) = value
                    && let Some(&new) = (*sym as usize).checked_sub(table).and_then(|at| renumbered.get(at))
                {
                    *sym = new;
                }
            }
        }
        request.extra_strings = strings;
        request.extra_ids = string_ids;
        request.reader = Some(data.reader);
        Ok(request)
    }

    /// Decides `request` (read by [`Engine::request_with`] with the same `data`) against
    /// this engine's data plus `data`'s facts. Scratch memory is this engine's, cached per
    /// thread as for [`Engine::decide`]. More data made by another engine, or a request read
    /// for other data or by the engine alone, is refused ([`EvalError::Request`]).
    pub fn decide_with(&self, data: &MoreData, request: &Request) -> Result<Decision, EvalError> {
        let refused = |message: String| EvalError::Request(RequestError { path: String::new(), message });
        self.check_more(data).map_err(refused)?;
        if request.reader.is_some_and(|reader| reader != data.reader) {
            return Err(refused(
                "the request was not read with this data, whose strings it must share; read it with \
                 `request_with` and the same data"
                    .to_owned(),
            ));
        }
        self.in_cached_session(|session| {
            self.decide_over(&data.statics, session, request).map(|decision| decision.to_decision())
        })
    }

    /// Refuses more data made by another engine: its relations and strings are that
    /// program's.
    fn check_more(&self, data: &MoreData) -> Result<(), String> {
        if data.engine == self.id {
            Ok(())
        } else {
            Err("the data was made by another engine; make it with this engine's `more_data`".to_owned())
        }
    }

    /// What evaluating the data-only relations reads of this engine.
    fn load_run(&self) -> Load<'_> {
        Load {
            program: &self.program,
            guards: &self.guards,
            dispatch: &self.dispatch,
            kernels: &self.kernels,
            code: &self.code,
            string_ids: &self.string_ids,
            limits: &self.load_limits,
        }
    }
}
