"""The knowledge base in the rule author's editor: a language server (issue 24, in progress;
docs/editor.md). :mod:`engine.lsp.workspace` knows the knowledge base; :mod:`engine.lsp.server`
speaks the Language Server Protocol with pygls. ``policykb lsp`` starts it."""
