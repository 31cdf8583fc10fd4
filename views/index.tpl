% rebase('base.tpl', title=title)
<main id="app">
  <h1>chat</h1>
  <p>The web client is on its way. Meanwhile the API is at <code>/auth/*</code> and <code>/v1/*</code>.</p>
</main>
