% rebase('base.tpl', title=title, import_map=import_map, preload=preload, modules=['js/main.js'])
<div id="app" class="app" data-image-base="{{image_base}}" data-image-max-bytes="{{image_max_bytes}}" data-me="{{me}}">
  <header class="topbar">
    <h1 class="brand"><span class="brand-mark" aria-hidden="true"></span>chat</h1>
    <form id="search-form" class="search" role="search" hidden>
      <label for="search-input" class="visually-hidden">Search messages</label>
      <svg class="search-icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><path fill="currentColor" d="M10 3a7 7 0 0 1 5.6 11.2l4.6 4.6-1.4 1.4-4.6-4.6A7 7 0 1 1 10 3zm0 2a5 5 0 1 0 0 10 5 5 0 0 0 0-10z"/></svg>
      <input id="search-input" type="search" placeholder="Search messages" autocomplete="off" maxlength="200"
             role="combobox" aria-expanded="false" aria-controls="search-results" aria-autocomplete="list"
             aria-describedby="search-hint">
      <kbd class="search-key" title="Press / to search">/</kbd>
      <p id="search-hint" class="visually-hidden">Results show as you type. Up and Down pick one, Enter opens it, Escape closes the results.</p>
      <div id="search-panel" class="search-panel" hidden>
        <p id="search-status" class="hint small search-status" role="status"></p>
        <ul id="search-results" class="search-results" role="listbox" aria-label="Search results"></ul>
        <button id="search-more" type="button" class="ghost older" hidden>More results</button>
      </div>
    </form>
    <nav id="account" class="account" aria-label="Account" hidden>
      <button id="profile-button" type="button" class="ghost person-button" title="Your profile" aria-haspopup="dialog">
        <span id="my-avatar"></span><span id="whoami" class="whoami"></span>
      </button>
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
      <div class="password-line">
        <p id="auth-password-hint" class="hint small">At least 8 characters.</p>
        <button id="forgot-button" type="button" class="link small">Forgot password?</button>
      </div>
      <p id="auth-error" class="error form-error" role="alert"></p>
      <div class="actions">
        <button type="submit" value="login" class="primary">Log in</button>
        <button type="submit" value="register">Create account</button>
      </div>
    </form>

    <form id="forgot-form" class="card auth-card" novalidate hidden>
      <h2>Forgot your password?</h2>
      <p class="hint">Tell us the address you log in with: we will mail it a link to choose a new password.</p>
      <label for="forgot-email">Your email address</label>
      <input id="forgot-email" name="username" type="email" autocomplete="username" maxlength="254"
             aria-describedby="forgot-email-error forgot-error" required>
      <p id="forgot-email-error" class="error field-error" role="alert"></p>
      <p id="forgot-sent" class="notice" role="status" hidden></p>
      <p id="forgot-error" class="error form-error" role="alert"></p>
      <div class="actions">
        <button id="forgot-send" type="submit" class="primary">Send the link</button>
        <button id="forgot-back" type="button">Back to log in</button>
      </div>
    </form>

    <form id="reset-form" class="card auth-card" aria-labelledby="reset-title" novalidate hidden>
      <h2 id="reset-title">Choose a new password</h2>
      <div id="reset-fields" class="auth-fields">
        <p class="hint">Once it is set you are logged in here, and logged out everywhere else.</p>
        <label for="reset-password">New password</label>
        <input id="reset-password" type="password" autocomplete="new-password" maxlength="1024"
               aria-describedby="reset-password-error reset-password-hint reset-error" required>
        <p id="reset-password-error" class="error field-error" role="alert"></p>
        <p id="reset-password-hint" class="hint small">At least 8 characters.</p>
        <label for="reset-confirm">Type it again</label>
        <input id="reset-confirm" type="password" autocomplete="new-password" maxlength="1024"
               aria-describedby="reset-confirm-error reset-error" required>
        <p id="reset-confirm-error" class="error field-error" role="alert"></p>
      </div>
      <p id="reset-error" class="error form-error" role="alert"></p>
      <div class="actions">
        <button id="reset-save" type="submit" class="primary">Set the password and log in</button>
        <button id="reset-again" type="button" class="primary" hidden>Ask for a new link</button>
      </div>
      <button id="reset-back" type="button" class="link small back-link">Back to log in</button>
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
        <label class="check"><input id="room-private" type="checkbox"> Private: only people you invite</label>
      </form>
      <p id="rooms-error" class="error" role="alert"></p>
      <section id="invites-section" aria-labelledby="invites-heading" hidden>
        <h2 id="invites-heading" class="list-heading">Invitations</h2>
        <ul id="invites" class="invite-list"></ul>
      </section>
      <h2 id="my-rooms-heading" class="list-heading">Your rooms</h2>
      <ul id="my-rooms" class="room-list" aria-labelledby="my-rooms-heading"></ul>
      <p id="my-rooms-empty" class="hint small" hidden>You are in no room yet: create one, or join one below.</p>
      <h2 id="direct-heading" class="list-heading">Direct messages</h2>
      <ul id="direct-rooms" class="room-list" aria-labelledby="direct-heading"></ul>
      <p id="direct-empty" class="hint small" hidden>None yet: open a room's members and pick a person.</p>
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
          <button id="invite-button" type="button" class="with-icon" aria-haspopup="dialog" title="Invite people">
            <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><path fill="currentColor" d="M10 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm0 2c-3.3 0-7 1.7-7 4v2h14v-2c0-2.3-3.7-4-7-4zm9-6V5h-2v3h-3v2h3v3h2v-3h3V8h-3z"/></svg>
            <span class="button-text">Invite</span>
          </button>
          <button id="members-button" type="button" class="with-icon" aria-pressed="false" aria-controls="members-panel" title="Members">
            <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><path fill="currentColor" d="M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm0 2c-3.3 0-7 1.7-7 4v2h14v-2c0-2.3-3.7-4-7-4zm6.5-2.2a4 4 0 0 0 0-5.6A3.5 3.5 0 1 1 15.5 10.8zM17.6 13.3c2 .7 4.4 2 4.4 3.7v2h-3v-2c0-1.4-.5-2.6-1.4-3.7z"/></svg>
            <span class="button-text">Members</span>
            <span id="members-count" class="members-count"></span>
          </button>
          <button id="leave-button" type="button">Leave</button>
        </header>
        <div id="messages" class="messages" role="log" aria-label="Conversation" tabindex="0">
          <p id="history-start" class="history-start hint small" hidden>This is the beginning of the room.</p>
          <button id="older-button" type="button" class="ghost older" hidden>Load older messages</button>
          <ol id="message-list" class="message-list"></ol>
          <button id="newer-button" type="button" class="ghost older" hidden>Load newer messages</button>
          <ol id="pending-list" class="message-list" aria-label="Not sent yet"></ol>
        </div>
        <button id="jump-button" type="button" class="jump" hidden>New messages &darr;</button>
        <p id="typing" class="typing hint small" aria-live="polite"></p>
        <p id="room-error" class="error room-error" role="alert"></p>
        <div id="reply-bar" class="reply-bar" hidden>
          <span class="reply-label">Replying to <strong id="reply-who"></strong> <span id="reply-text" class="reply-text"></span></span>
          <button id="reply-cancel" type="button" class="ghost icon" aria-label="Cancel the reply" title="Cancel the reply">&times;</button>
        </div>
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
        <dialog id="delete-dialog" class="dialog" aria-labelledby="delete-dialog-title" aria-describedby="delete-dialog-text">
          <form method="dialog">
            <h2 id="delete-dialog-title">Delete this message?</h2>
            <p id="delete-dialog-text"></p>
            <div class="actions">
              <button type="submit" value="cancel" autofocus>Cancel</button>
              <button type="submit" value="delete" class="danger">Delete</button>
            </div>
          </form>
        </dialog>
        <div id="drop-zone" class="drop-zone" hidden><p>Drop the image to send it</p></div>
        <aside id="members-panel" class="members-panel" aria-labelledby="members-title" hidden>
          <header class="panel-header">
            <h2 id="members-title">Members</h2>
            <button id="members-close" type="button" class="ghost" aria-label="Close the member list">&times;</button>
          </header>
          <p id="members-error" class="error" role="alert"></p>
          <ul id="members" class="member-list" aria-labelledby="members-title"></ul>
          <details id="room-settings" class="room-settings">
            <summary>Room settings</summary>
            <form id="settings-form" class="settings-form">
              <p id="settings-who" class="hint small">Only the owner (or an administrator) can change these.</p>
              <label for="settings-name">Name</label>
              <input id="settings-name" maxlength="100" autocomplete="off" required>
              <label class="check"><input id="settings-private" type="checkbox"> Private: only invited people can join</label>
              <button type="submit" class="primary">Save</button>
              <p id="settings-status" class="hint small" role="status"></p>
            </form>
          </details>
        </aside>
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

    <dialog id="person-dialog" class="dialog person-card" aria-labelledby="person-name">
      <form method="dialog">
        <div class="person-head">
          <span id="person-avatar"></span>
          <div><h2 id="person-name"></h2><p id="person-email" class="hint small"></p></div>
        </div>
        <p id="person-role" class="hint small"></p>
        <p id="person-error" class="error" role="alert"></p>
        <p id="person-moderate-line" class="hint small">Owner or administrator?
          <button id="person-moderate" type="button" class="link">Show the room's moderation</button></p>
        <div class="actions">
          <button id="person-remove" type="button" class="danger">Remove from room</button>
          <button id="person-owner" type="button">Make owner</button>
          <button id="person-dm" type="button" class="primary">Message</button>
          <button type="submit" value="close">Close</button>
        </div>
      </form>
    </dialog>
    <dialog id="profile-dialog" class="dialog" aria-labelledby="profile-title">
      <form id="profile-form" method="dialog" novalidate>
        <h2 id="profile-title">Your profile</h2>
        <div class="person-head">
          <span id="profile-avatar"></span>
          <div>
            <p id="profile-email" class="hint small"></p>
            <div class="profile-picture-actions">
              <button id="profile-picture" type="button">Change picture</button>
              <button id="profile-no-picture" type="button" class="ghost">Remove picture</button>
            </div>
            <input id="profile-file" type="file" accept="image/png,image/jpeg,image/gif,image/webp" tabindex="-1" hidden>
          </div>
        </div>
        <label for="profile-name">Display name</label>
        <input id="profile-name" maxlength="64" autocomplete="nickname" required>
        <p id="profile-error" class="error" role="alert"></p>
        <div class="actions">
          <button type="submit" value="cancel" formnovalidate>Cancel</button>
          <button id="profile-save" type="button" class="primary">Save</button>
        </div>
      </form>
      <details id="password-section" class="profile-section">
        <summary>Change password</summary>
        <form id="password-form" class="password-form" novalidate>
          <input type="email" id="password-user" autocomplete="username" hidden>
          <label for="password-current">Current password</label>
          <input id="password-current" type="password" autocomplete="current-password" maxlength="1024"
                 aria-describedby="password-current-error" required>
          <p id="password-current-error" class="error field-error" role="alert"></p>
          <label for="password-new">New password</label>
          <input id="password-new" type="password" autocomplete="new-password" maxlength="1024"
                 aria-describedby="password-new-error password-new-hint" required>
          <p id="password-new-error" class="error field-error" role="alert"></p>
          <p id="password-new-hint" class="hint small">At least 8 characters. Your other sessions are logged out.</p>
          <label for="password-again">Type the new one again</label>
          <input id="password-again" type="password" autocomplete="new-password" maxlength="1024"
                 aria-describedby="password-again-error" required>
          <p id="password-again-error" class="error field-error" role="alert"></p>
          <p id="password-error" class="error" role="alert"></p>
          <button type="submit" class="primary">Change password</button>
        </form>
      </details>
      <p id="password-done" class="notice small" role="status" hidden></p>
      <section class="profile-section" aria-labelledby="sessions-title">
        <h3 id="sessions-title" tabindex="-1">Where you are logged in</h3>
        <ul id="sessions" class="session-list" aria-labelledby="sessions-title"></ul>
        <p id="sessions-status" class="hint small" role="status"></p>
        <p id="sessions-error" class="error" role="alert"></p>
        <button id="sessions-end-others" type="button" hidden>Log out everywhere else</button>
      </section>
    </dialog>
    <dialog id="invite-dialog" class="dialog" aria-labelledby="invite-title">
      <form id="invite-form" novalidate>
        <h2 id="invite-title">Invite people</h2>
        <label for="invite-email">Invite someone by their sign-in address</label>
        <div class="row">
          <input id="invite-email" type="email" maxlength="254" autocomplete="off" placeholder="name@example.com">
          <button type="submit" class="primary">Invite</button>
        </div>
        <p id="invite-status" class="hint small" role="status"></p>
        <label for="invite-link">Or share a link (valid 7 days)</label>
        <div class="row">
          <input id="invite-link" readonly placeholder="No link yet">
          <button id="invite-make-link" type="button">Create link</button>
          <button id="invite-copy" type="button" hidden>Copy</button>
        </div>
        <p id="invite-link-status" class="hint small" role="status"></p>
        <div class="actions">
          <button id="invite-close" type="button">Done</button>
        </div>
      </form>
    </dialog>

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
