% rebase('base.tpl', title=title)
<main class="error-page">
  <h1>{{status}} {{reason}}</h1>
  % if message:
  <p>{{message}}</p>
  % end
  <p><a href="/">Back to chat</a></p>
</main>
