% rebase('base.tpl', title=title, import_map=import_map, preload=preload, modules=['js/main.js'])
<div id="app" class="app" data-image-base="{{image_base}}" data-image-max-bytes="{{image_max_bytes}}">
  <header class="topbar">
    <h1 class="brand"><span class="brand-mark" aria-hidden="true"></span>chat</h1>
    <nav id="account" class="account" aria-label="Account" hidden>
      <span id="whoami" class="whoami"></span>
      <button id="stats-button" type="button" class="ghost" aria-pressed="false">Stats</button>
      <button id="notify-button" type="button" class="ghost" aria-pressed="false" hidden>Notifications</button>
      <button id="logout-button" type="button" class="ghost">Log out</button>
    </nav>
  </header>

  <main id="auth-view" class="auth-view" hidden>
    <form id="auth-form" class="card auth-card" novalidate>
      <h2>Welcome to chat</h2>
      <p class="hint">Log in, or create an account with any email address.</p>
      <label for="auth-email">Email</label>
      <input id="auth-email" name="username" type="email" autocomplete="username" maxlength="254"
             aria-describedby="auth-email-error auth-error" required>
      <p id="auth-email-error" class="error field-error" role="alert"></p>
      <label for="auth-password">Password</label>
      <input id="auth-password" name="password" type="password" autocomplete="current-password"
             aria-describedby="auth-password-error auth-password-hint auth-error" required>
      <p id="auth-password-error" class="error field-error" role="alert"></p>
      <p id="auth-password-hint" class="hint small">At least 8 characters.</p>
      <p id="auth-error" class="error form-error" role="alert"></p>
      <div class="actions">
        <button type="submit" value="login" class="primary">Log in</button>
        <button type="submit" value="register">Create account</button>
      </div>
    </form>
  </main>

  <div id="chat-view" class="chat-view" hidden>
    <aside id="rooms-pane" class="rooms-pane" aria-label="Rooms">
      <p id="room-notice" class="notice" role="status" hidden></p>
      <form id="create-form" class="create-form">
        <label for="room-name">New room</label>
        <div class="row">
          <input id="room-name" maxlength="100" placeholder="Room name" autocomplete="off">
          <button type="submit" class="primary">Create</button>
        </div>
      </form>
      <p id="rooms-error" class="error" role="alert"></p>
      <h2 id="my-rooms-heading" class="list-heading">Your rooms</h2>
      <ul id="my-rooms" class="room-list" aria-labelledby="my-rooms-heading"></ul>
      <p id="my-rooms-empty" class="hint small" hidden>You are in no room yet: create one, or join one below.</p>
      <h2 id="other-rooms-heading" class="list-heading">Other rooms</h2>
      <ul id="other-rooms" class="room-list" aria-labelledby="other-rooms-heading"></ul>
      <p id="other-rooms-empty" class="hint small" hidden>No other rooms right now.</p>
    </aside>

    <section id="room-pane" class="room-pane" aria-labelledby="room-title">
      <div id="room-placeholder" class="placeholder">
        <p class="hint">Pick a room on the left, or create one.</p>
      </div>
      <div id="room-open" class="room-open" hidden>
        <header class="room-header">
          <button id="back-button" type="button" class="ghost back" aria-label="Back to the room list">&larr;</button>
          <div class="room-heading">
            <h2 id="room-title"></h2>
            <p id="room-meta" class="hint small"></p>
          </div>
          <span id="connection" class="connection" role="status"></span>
          <button id="leave-button" type="button">Leave</button>
        </header>
        <div id="messages" class="messages" role="log" aria-label="Conversation" tabindex="0">
          <p id="history-start" class="history-start hint small" hidden>This is the beginning of the room.</p>
          <button id="older-button" type="button" class="ghost older" hidden>Load older messages</button>
          <ol id="message-list" class="message-list"></ol>
          <ol id="pending-list" class="message-list" aria-label="Not sent yet"></ol>
        </div>
        <button id="jump-button" type="button" class="jump" hidden>New messages &darr;</button>
        <p id="room-error" class="error room-error" role="alert"></p>
        <form id="composer" class="composer">
          <button id="image-button" type="button" class="ghost icon" aria-label="Send an image" title="Send an image (or paste, or drop one here)">
            <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 5h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2zm0 2v8.6l4.3-4.3a1 1 0 0 1 1.4 0l3.3 3.3 2.3-2.3a1 1 0 0 1 1.4 0L20 15.6V7H4zm11 1.5a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3z"/></svg>
          </button>
          <input id="image-input" type="file" accept="image/png,image/jpeg,image/gif,image/webp" tabindex="-1" hidden>
          <label for="message-input" class="visually-hidden">Message</label>
          <textarea id="message-input" rows="1" maxlength="4000" aria-describedby="composer-hint"
                    placeholder="Write a message"></textarea>
          <button type="submit" class="primary">Send</button>
          <p id="composer-hint" class="visually-hidden">Enter sends; Shift+Enter starts a new line. Paste or drop an image to send it.</p>
        </form>
        <div id="drop-zone" class="drop-zone" hidden><p>Drop the image to send it</p></div>
        <dialog id="leave-dialog" class="dialog" aria-labelledby="leave-dialog-title" aria-describedby="leave-dialog-text">
          <form method="dialog">
            <h2 id="leave-dialog-title">Leave and delete this room?</h2>
            <p id="leave-dialog-text"></p>
            <div class="actions">
              <button type="submit" value="cancel" autofocus>Cancel</button>
              <button type="submit" value="delete" class="danger">Leave and delete</button>
            </div>
          </form>
        </dialog>
      </div>
    </section>

    <section id="stats-pane" class="stats-pane" aria-labelledby="stats-title" hidden>
      <header class="room-header">
        <div class="room-heading">
          <h2 id="stats-title">Stats</h2>
          <p id="stats-updated" class="hint small"></p>
        </div>
        <button id="stats-refresh" type="button">Refresh</button>
        <button id="stats-close" type="button">Close</button>
      </header>
      <div class="stats-body">
        <p id="stats-error" class="error" role="alert"></p>
        <dl id="stats-counts" class="counts"></dl>
        <h3 id="days-heading" hidden>Messages per day (UTC, last 14 days)</h3>
        <ol id="days" class="days" aria-labelledby="days-heading"></ol>
        <h3>Activity</h3>
        <p id="stats-scope" class="hint small"></p>
        <div class="table-wrap">
          <table class="activity">
            <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Detail</th></tr></thead>
            <tbody id="activity-rows"></tbody>
          </table>
        </div>
        <button id="stats-older" type="button" class="ghost older" hidden>Older activity</button>
      </div>
    </section>
  </div>
</div>
