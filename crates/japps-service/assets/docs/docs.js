'use strict';
// Renders the service's OpenAPI document. Every string from the document reaches the
// page as a text node (textContent or append(string)); no HTML is ever parsed from it.
(function () {
  const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === 'class') {
        node.className = value;
      } else {
        node.setAttribute(name, value);
      }
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  // An id made only of safe characters, for in-page links.
  function anchor(kind, name) {
    return kind + '-' + String(name).replace(/[^A-Za-z0-9_.-]/g, '_');
  }

  // Light markup of the descriptions: `code` and **bold**; the rest is plain text.
  function richText(text, tag) {
    const node = el(tag || 'p', { class: 'text' });
    const parts = String(text).split(/(`[^`]*`|\*\*[^*]+\*\*)/);
    for (const part of parts) {
      if (part.length > 1 && part.startsWith('`') && part.endsWith('`')) {
        node.append(el('code', null, part.slice(1, -1)));
      } else if (part.length > 4 && part.startsWith('**') && part.endsWith('**')) {
        node.append(el('strong', null, part.slice(2, -2)));
      } else if (part) {
        node.append(part);
      }
    }
    return node;
  }

  function refName(ref) {
    const parts = String(ref).split('/');
    return decodeURIComponent(parts[parts.length - 1]);
  }

  // An example: a string as it is, anything else as JSON.
  function exampleText(value) {
    return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  }

  // `example`, or the first of OpenAPI 3.1's `examples`.
  function exampleOf(schema) {
    if (!schema) return undefined;
    if (schema.example !== undefined) return schema.example;
    return Array.isArray(schema.examples) ? schema.examples[0] : undefined;
  }

  function pretty(value) {
    return el('pre', null, exampleText(value));
  }

  function render(doc) {
    const schemas = (doc.components && doc.components.schemas) || {};
    const schemes = (doc.components && doc.components.securitySchemes) || {};

    function resolve(schema) {
      let seen = 0;
      while (schema && schema.$ref && seen < 20) {
        schema = schemas[refName(schema.$ref)];
        seen += 1;
      }
      return schema || {};
    }

    // A one-line type, with links to named schemas.
    function typeLabel(schema) {
      const out = el('span', { class: 'mono' });
      function add(s) {
        if (!s || typeof s !== 'object' || Object.keys(s).length === 0) {
          out.append('any');
          return;
        }
        if (s.$ref) {
          const name = refName(s.$ref);
          out.append(el('a', { href: '#' + anchor('schema', name) }, name));
          return;
        }
        const union = s.oneOf || s.anyOf;
        if (union) {
          union.forEach((item, i) => {
            if (i) out.append(' | ');
            add(item);
          });
          return;
        }
        if (s.allOf) {
          s.allOf.forEach((item, i) => {
            if (i) out.append(' & ');
            add(item);
          });
          return;
        }
        if (s.enum) {
          out.append('one of ' + s.enum.map((v) => JSON.stringify(v)).join(', '));
          return;
        }
        const types = Array.isArray(s.type) ? s.type : (s.type ? [s.type] : ['any']);
        types.forEach((type, i) => {
          if (i) out.append(' | ');
          if (type === 'array' && Array.isArray(s.prefixItems)) {
            out.append('[');
            s.prefixItems.forEach((item, j) => {
              if (j) out.append(', ');
              add(item);
            });
            out.append(s.items === false ? ']' : ', \u2026]');
          } else if (type === 'array') {
            out.append('array of ');
            add(s.items);
          } else if (type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties) {
            out.append('map of string \u2192 ');
            add(s.additionalProperties);
          } else {
            out.append(type + (s.format && type !== 'null' ? ' (' + s.format + ')' : ''));
          }
        });
      }
      add(schema);
      return out;
    }

    // The properties of an object schema as a table, or null.
    function propertiesTable(schema) {
      const s = resolve(schema);
      const extra = s.additionalProperties;
      if (!s.properties) return null;
      const required = new Set(s.required || []);
      const rows = Object.entries(s.properties).map(([name, prop]) => {
        const cell = el('td', null);
        if (prop.description) cell.append(richText(prop.description, 'span'));
        const example = exampleOf(prop);
        if (example !== undefined) {
          cell.append(el('div', { class: 'muted' }, 'Example: ', el('code', null, exampleText(example))));
        }
        return el('tr', null,
          el('td', null, el('code', null, name), required.has(name) ? el('span', { class: 'required' }, ' required') : null),
          el('td', null, typeLabel(prop)),
          cell);
      });
      if (extra) {
        rows.push(el('tr', null,
          el('td', null, el('em', null, 'other keys')),
          el('td', null, extra === true ? el('span', { class: 'mono' }, 'any') : typeLabel(extra)),
          el('td', null, 'Allowed.')));
      }
      return el('table', null,
        el('thead', null, el('tr', null, el('th', null, 'Field'), el('th', null, 'Type'), el('th', null, 'Description'))),
        el('tbody', null, ...rows));
    }

    // A body's schema: its type, and the fields of the object it is (or holds).
    function schemaBlock(schema) {
      const block = el('div', null, el('div', null, 'Schema: ', typeLabel(schema)));
      let inner = resolve(schema);
      if (inner.type === 'array' && inner.items) inner = inner.items;
      if ((inner.type === 'object' || (Array.isArray(inner.type) && inner.type.includes('object'))) &&
          inner.additionalProperties && typeof inner.additionalProperties === 'object' && !inner.properties) {
        inner = inner.additionalProperties;
      }
      const table = propertiesTable(inner);
      if (table) block.append(table);
      return block;
    }

    function contentBlock(content) {
      const box = el('div', null);
      for (const [type, media] of Object.entries(content || {})) {
        box.append(el('div', null, 'Content type: ', el('code', null, type)));
        if (media.schema) box.append(schemaBlock(media.schema));
        if (media.example !== undefined) box.append(el('div', { class: 'muted' }, 'Example:'), pretty(media.example));
      }
      return box;
    }

    function securityOf(op) {
      return op.security !== undefined ? op.security : (doc.security || []);
    }

    function securityBlock(op) {
      const requirements = securityOf(op);
      if (!requirements.length) {
        return el('p', null, el('span', { class: 'badge public' }, 'public'), ' No login needed.');
      }
      const list = el('ul', { class: 'plain' });
      for (const requirement of requirements) {
        const names = Object.keys(requirement);
        if (!names.length) {
          list.append(el('li', null, 'or no credentials at all'));
          continue;
        }
        const item = el('li', null);
        names.forEach((name, i) => {
          if (i) item.append(' and ');
          const scheme = schemes[name] || {};
          item.append(el('a', { href: '#' + anchor('scheme', name) }, name));
          if (scheme.in && scheme.name) {
            item.append(' (' + scheme.in + ' ', el('code', null, scheme.name), ')');
          }
          const scopes = requirement[name] || [];
          if (scopes.length) item.append(', with scope ', el('code', null, scopes.join(' ')));
        });
        list.append(item);
      }
      return el('div', null,
        el('p', null, el('span', { class: 'badge login' }, 'login'), ' Needs one of:'),
        list);
    }

    function parametersBlock(op, pathItem) {
      const params = (pathItem.parameters || []).concat(op.parameters || []);
      if (!params.length) return null;
      const rows = params.map((p) => el('tr', null,
        el('td', null, el('code', null, p.name), p.required ? el('span', { class: 'required' }, ' required') : null),
        el('td', null, p.in),
        el('td', null, typeLabel(p.schema)),
        el('td', null,
          p.description ? richText(p.description, 'span') : null,
          p.example !== undefined ? el('div', { class: 'muted' }, 'Example: ', el('code', null, exampleText(p.example))) : null)));
      return el('div', null,
        el('h4', null, 'Parameters'),
        el('table', null,
          el('thead', null, el('tr', null, el('th', null, 'Name'), el('th', null, 'In'), el('th', null, 'Type'), el('th', null, 'Description'))),
          el('tbody', null, ...rows)));
    }

    function requestBodyBlock(op) {
      const body = op.requestBody;
      if (!body) return el('div', null, el('h4', null, 'Request body'), el('p', { class: 'muted' }, 'None.'));
      return el('div', null,
        el('h4', null, 'Request body' + (body.required ? ' (required)' : '')),
        body.description ? richText(body.description) : null,
        contentBlock(body.content));
    }

    function responsesBlock(op) {
      const box = el('div', null, el('h4', null, 'Responses'));
      for (const [status, response] of Object.entries(op.responses || {})) {
        const code = Number(status);
        const kind = code >= 400 ? 'error' : (code >= 300 ? 'redirect' : 'ok');
        const headers = Object.entries(response.headers || {});
        box.append(el('div', { class: 'schema-card' },
          el('h3', null, el('span', { class: 'status ' + kind }, status), ' ',
            response.description ? richText(response.description, 'span') : null),
          headers.length ? el('div', null, 'Headers: ', ...headers.flatMap(([name, header], i) => [
            i ? '; ' : '', el('code', null, name),
            header.description ? ' \u2014 ' : '', header.description ? richText(header.description, 'span') : '',
          ])) : null,
          contentBlock(response.content)));
      }
      return box;
    }

    function operationBlock(path, method, op, pathItem) {
      const methodClass = ['get', 'post', 'put', 'patch', 'delete'].includes(method) ? method : 'other';
      const needsLogin = securityOf(op).some((r) => Object.keys(r).length > 0);
      const id = anchor('op', op.operationId || (method + ' ' + path));
      const details = el('details', { class: 'op', id: id },
        el('summary', null,
          el('span', { class: 'method ' + methodClass }, method),
          el('span', { class: 'path' }, path),
          el('span', { class: 'summary' }, op.summary || ''),
          el('span', { class: 'badge ' + (needsLogin ? 'login' : 'public') }, needsLogin ? 'login' : 'public')),
        el('div', { class: 'body' },
          op.description ? richText(op.description) : null,
          op.operationId ? el('p', { class: 'muted' }, 'Operation id: ', el('code', null, op.operationId)) : null,
          el('h4', null, 'Authentication'),
          securityBlock(op),
          parametersBlock(op, pathItem),
          requestBodyBlock(op),
          responsesBlock(op)));
      details.dataset.search = [method, path, op.summary || '', op.operationId || ''].join(' ').toLowerCase();
      return details;
    }

    // Header and introduction.
    const info = doc.info || {};
    document.title = (info.title || 'API') + ' API';
    document.getElementById('title').textContent = (info.title || 'API') + ' API';
    document.getElementById('subtitle').textContent =
      'Version ' + (info.version || '?') + ' \u00b7 OpenAPI ' + (doc.openapi || '?');
    const intro = document.getElementById('intro');
    if (info.description) {
      for (const paragraph of String(info.description).split(/\n\s*\n/)) intro.append(richText(paragraph));
    }
    if (Object.keys(schemes).length) {
      intro.append(el('h2', null, 'Authentication'));
      for (const [name, scheme] of Object.entries(schemes)) {
        intro.append(el('div', { class: 'schema-card', id: anchor('scheme', name) },
          el('h3', null, el('code', null, name)),
          scheme.type === 'apiKey'
            ? el('p', null, 'In the ', scheme.in, ' ', el('code', null, scheme.name || ''))
            : el('p', null, 'Type: ' + scheme.type),
          scheme.description ? richText(scheme.description) : null));
      }
    }

    // Operations, grouped by their first tag in the document's tag order.
    const groups = new Map();
    for (const tag of doc.tags || []) groups.set(tag.name, { tag: tag, ops: [] });
    for (const [path, pathItem] of Object.entries(doc.paths || {})) {
      for (const method of METHODS) {
        const op = pathItem[method];
        if (!op) continue;
        const tag = (op.tags && op.tags[0]) || 'other';
        if (!groups.has(tag)) groups.set(tag, { tag: { name: tag }, ops: [] });
        groups.get(tag).ops.push(operationBlock(path, method, op, pathItem));
      }
    }
    const operations = document.getElementById('operations');
    for (const { tag, ops } of groups.values()) {
      if (!ops.length) continue;
      const section = el('section', { class: 'group' },
        el('h2', { id: anchor('tag', tag.name) }, tag.name),
        tag.description ? richText(tag.description) : null,
        ...ops);
      operations.append(section);
    }

    // Named schemas.
    const schemaSection = document.getElementById('schemas');
    if (Object.keys(schemas).length) schemaSection.append(el('h2', null, 'Schemas'));
    for (const [name, schema] of Object.entries(schemas)) {
      const table = propertiesTable(schema);
      schemaSection.append(el('div', { class: 'schema-card', id: anchor('schema', name) },
        el('h3', null, el('code', null, name)),
        schema.description ? richText(schema.description) : null,
        table ? null : el('div', null, 'Type: ', typeLabel(schema)),
        table,
        exampleOf(schema) !== undefined ? el('div', { class: 'muted' }, 'Example:') : null,
        exampleOf(schema) !== undefined ? pretty(exampleOf(schema)) : null));
    }

    // Tools.
    const all = () => Array.from(document.querySelectorAll('details.op'));
    document.getElementById('expand').addEventListener('click', () => all().forEach((d) => { d.open = true; }));
    document.getElementById('collapse').addEventListener('click', () => all().forEach((d) => { d.open = false; }));
    document.getElementById('filter').addEventListener('input', (event) => {
      const words = event.target.value.toLowerCase().split(/\s+/).filter(Boolean);
      for (const d of all()) d.hidden = !words.every((w) => d.dataset.search.includes(w));
      for (const section of document.querySelectorAll('section.group')) {
        section.hidden = !section.querySelector('details.op:not([hidden])');
      }
    });
    function openTarget() {
      const id = decodeURIComponent(location.hash.slice(1));
      const target = id && document.getElementById(id);
      if (!target) return;
      if (target.tagName === 'DETAILS') target.open = true;
      target.scrollIntoView();
    }
    window.addEventListener('hashchange', openTarget);
    openTarget();
  }

  const status = document.getElementById('status');
  fetch('openapi.json', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
    .then((response) => {
      if (!response.ok) throw new Error('openapi.json answered ' + response.status);
      return response.json();
    })
    .then((doc) => {
      render(doc);
      status.hidden = true;
    })
    .catch((error) => {
      status.textContent = 'Cannot show the API description: ' + error.message;
    });
})();
