//! A route of the REST API with, for each method, its handler and what it does: the router and
//! the OpenAPI document are both built from these, so neither can list a method the other lacks.

use super::super::ApiState;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};
use schemars::{JsonSchema, Schema, SchemaGenerator};

/// Writes the schema of a type into the document's components and refers to it.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// What one method of a route does, as the document says it.
#[derive(Clone)]
pub struct Op {
    pub id: &'static str,
    pub summary: &'static str,
    pub body: Option<SchemaFn>,
    /// Status, what it means, and the body's schema (none: no body).
    pub responses: Vec<(u16, &'static str, Option<SchemaFn>)>,
    pub query: Vec<(&'static str, &'static str)>,
    /// Takes `If-Match` / `If-None-Match` (optimistic concurrency by etag).
    pub preconditions: bool,
    /// Answers with a stream of Server-Sent Events rather than JSON.
    pub event_stream: bool,
}

impl Op {
    /// An operation with its `operationId` and a one-line summary.
    pub fn new(id: &'static str, summary: &'static str) -> Self {
        Self {
            id,
            summary,
            body: None,
            responses: Vec::new(),
            query: Vec::new(),
            preconditions: false,
            event_stream: false,
        }
    }

    /// The JSON body it takes.
    pub fn body<T: JsonSchema>(mut self) -> Self {
        self.body = Some(schema_of::<T>);
        self
    }

    /// 200 with this body.
    pub fn ok<T: JsonSchema>(self) -> Self {
        self.answers::<T>(200, "OK")
    }

    /// 201 when created, 200 when replaced, with this body (ARM's PUT).
    pub fn put<T: JsonSchema>(self) -> Self {
        self.answers::<T>(201, "Created")
            .answers::<T>(200, "Replaced")
            .preconditions()
    }

    /// 200 when something was deleted, 204 when there was nothing to delete (ARM's DELETE).
    pub fn deletes(mut self) -> Self {
        self.responses.push((200, "Deleted", None));
        self.responses
            .push((204, "There was nothing to delete", None));
        self
    }

    pub fn answers<T: JsonSchema>(mut self, status: u16, meaning: &'static str) -> Self {
        self.responses.push((status, meaning, Some(schema_of::<T>)));
        self
    }

    /// A query parameter (always text) and what it does.
    pub fn query(mut self, name: &'static str, meaning: &'static str) -> Self {
        self.query.push((name, meaning));
        self
    }

    pub fn preconditions(mut self) -> Self {
        self.preconditions = true;
        self
    }

    /// 200 with a stream of Server-Sent Events.
    pub fn events(mut self) -> Self {
        self.event_stream = true;
        self.responses
            .push((200, "A stream of Server-Sent Events", None));
        self
    }
}

/// A path of the API, its methods' handlers, and what each does.
pub struct Route {
    pub path: &'static str,
    pub methods: MethodRouter<ApiState>,
    pub operations: Vec<(Method, Op)>,
}

impl Route {
    pub fn at(path: &'static str) -> Self {
        Self {
            path,
            methods: MethodRouter::new(),
            operations: Vec::new(),
        }
    }

    pub fn get<H: Handler<T, ApiState>, T: 'static>(self, handler: H, op: Op) -> Self {
        self.on(Method::GET, handler, op)
    }

    pub fn put<H: Handler<T, ApiState>, T: 'static>(self, handler: H, op: Op) -> Self {
        self.on(Method::PUT, handler, op)
    }

    pub fn post<H: Handler<T, ApiState>, T: 'static>(self, handler: H, op: Op) -> Self {
        self.on(Method::POST, handler, op)
    }

    pub fn patch<H: Handler<T, ApiState>, T: 'static>(self, handler: H, op: Op) -> Self {
        self.on(Method::PATCH, handler, op)
    }

    pub fn delete<H: Handler<T, ApiState>, T: 'static>(self, handler: H, op: Op) -> Self {
        self.on(Method::DELETE, handler, op)
    }

    fn on<H: Handler<T, ApiState>, T: 'static>(
        mut self,
        method: Method,
        handler: H,
        op: Op,
    ) -> Self {
        let filter = MethodFilter::try_from(method.clone()).expect("one of the five methods");
        self.methods = self.methods.on(filter, handler);
        self.operations.push((method, op));
        self
    }
}
