// Writing: Enter sends, Shift+Enter is a new line, the box grows with its text; images come in by
// the image button, paste, or drag-and-drop.
import { MESSAGE_MAX } from "chat/config";
import { $, show } from "chat/dom";

const input = $("message-input");

function fitInput() {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}

/** send(text) and upload(file) go to the open room (send returns false when none is open); problem(text) says what is wrong. */
export function startComposer({ send, upload, problem }) {
  const sendTyped = () => {
    const text = input.value.trim();
    if (!text) return;
    if (text.length > MESSAGE_MAX) {
      problem(`A message can be at most ${MESSAGE_MAX} characters.`);
      return;
    }
    problem("");
    if (!send(text)) return;
    input.value = "";
    fitInput();
  };
  const uploadAll = (files) => { for (const file of files) upload(file); };

  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    sendTyped();
    input.focus();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendTyped();
    }
  });
  input.addEventListener("input", fitInput);

  const imageInput = $("image-input");
  $("image-button").addEventListener("click", () => imageInput.click());
  imageInput.addEventListener("change", () => {
    uploadAll(imageInput.files);
    imageInput.value = "";
  });

  document.addEventListener("paste", (event) => {
    const files = Array.from(event.clipboardData.files);
    if (files.length === 0 || $("room-open").hidden) return;
    event.preventDefault();
    uploadAll(files);
  });

  const roomOpen = $("room-open");
  const dropZone = $("drop-zone");
  const carriesFiles = (event) => Array.from(event.dataTransfer.types).includes("Files");
  roomOpen.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    show(dropZone, true);
  });
  roomOpen.addEventListener("dragleave", (event) => {
    if (!roomOpen.contains(event.relatedTarget)) show(dropZone, false);
  });
  roomOpen.addEventListener("drop", (event) => {
    show(dropZone, false);
    if (!carriesFiles(event)) return;
    event.preventDefault();
    uploadAll(event.dataTransfer.files);
  });
}
