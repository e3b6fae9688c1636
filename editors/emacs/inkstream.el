;;; inkstream.el --- Streaming AI ghost text -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The inkstream authors

;; Author: The inkstream authors
;; Version: 0.1.0
;; Package-Requires: ((emacs "28.2") (jsonrpc "1.0.14"))
;; Keywords: tools, convenience, languages

;; This file is not part of GNU Emacs.

;;; Commentary:

;; An Emacs client for `inkstream serve', the streaming AI coding
;; assistant language server.  It talks to the server over stdio with
;; a JSON-RPC connection of its own (jsonrpc.el), so it works with
;; eglot, lsp-mode or neither.
;;
;; - `inkstream-mode' shows ghost text at point when typing pauses, and
;;   the ghost text grows while the model writes.  TAB accepts it
;;   (`inkstream-accept'), M-f accepts a word, C-e a line, C-g dismisses
;;   it; these keys act only while ghost text is shown.  Typing the
;;   characters the suggestion starts with keeps the running stream.
;; - Next edits: after a pause in editing, the edits the server predicts
;;   (the rest of a rename, say) are drawn where they would apply, each
;;   as soon as it arrives.  TAB jumps to the first one, TAB again
;;   applies it (`inkstream-nes-accept'); C-g or typing hides them
;;   (`inkstream-nes-dismiss').  `inkstream-next-edit' turns them off.
;; - `global-inkstream-mode' turns it on in the major modes listed in
;;   `inkstream-enabled-modes'.
;; - `inkstream-explain' streams an explanation of the region (or the
;;   defun at point) into the buffer *inkstream-explain*, where C-c C-k
;;   or q (`inkstream-stop') stops it and the model with it.
;; - `inkstream-status' shows the endpoint, model and last error.
;;
;; Settings (`inkstream-base-url', `inkstream-model', ...) go to the
;; server as initializationOptions.  The API key is never a setting:
;; the server reads it from the environment (INKSTREAM_API_KEY or
;; OPENAI_API_KEY).  The server's stderr goes to *inkstream-log*.
;;
;; The server does the debouncing, the clean-up of the model's output,
;; caching and superseding; this client only draws what it is sent.

;;; Code:

(require 'cl-lib)
(require 'jsonrpc)
(require 'project)
(require 'seq)
(require 'subr-x)
(require 'url-util)

(defgroup inkstream nil
  "Streaming AI ghost text and explanations from `inkstream serve'."
  :group 'tools
  :prefix "inkstream-")

;;;; State

(cl-defstruct (inkstream--server (:constructor inkstream--server-make)
                                 (:copier nil))
  "One `inkstream serve' process and what the client knows about it."
  root conn (state 'starting) pending (tokens (make-hash-table :test #'equal))
  (encoding "utf-16") buffers last-error progress stopping note no-next-edit)

(cl-defstruct (inkstream--ghost (:constructor inkstream--ghost-make)
                                (:copier nil))
  "A suggestion: its request, where it starts, and what the model wrote."
  buffer server id timer tokens start size (text "") done overlay)

(cl-defstruct (inkstream--nes (:constructor inkstream--nes-make) (:copier nil))
  "Next edits: their request, the document version they are for, and
the edits shown, each (EDIT . OVERLAY), in the server's order."
  buffer server id timer tokens version tick edits hint)

(cl-defstruct (inkstream--job (:constructor inkstream--job-make) (:copier nil))
  "A running explanation."
  server id timer tokens started)

(defvar-local inkstream--server nil
  "The server this buffer belongs to.")

(defvar-local inkstream--opened nil
  "Non-nil once the server was sent this buffer's `didOpen'.")

(defvar-local inkstream--version 0
  "The buffer's document version, as the server knows it.")

(defvar-local inkstream--before nil
  "What `before-change-functions' saw: (BEG END START-POSITION END-POSITION).")

(defvar inkstream-mode)

(defvar inkstream--servers (make-hash-table :test #'equal)
  "Running servers, by project root.")

(defvar inkstream--ghost nil
  "The suggestion in progress (an `inkstream--ghost'), or nil; one at a time.")

(defvar inkstream--nes nil
  "The next edits shown or being asked for (an `inkstream--nes'), or nil.")

(defvar inkstream--explain nil
  "The explanation in progress (an `inkstream--job'), or nil.")

(defvar inkstream--position-encodings ["utf-32" "utf-16"]
  "Position encodings offered to the server, in order of preference.
UTF-32 columns are Emacs character columns; UTF-16 is the LSP default.")

(defconst inkstream--setting-keys
  '((inkstream-provider . :provider)
    (inkstream-base-url . :baseUrl)
    (inkstream-model . :model)
    (inkstream-api-style . :apiStyle)
    (inkstream-fim-template . :fimTemplate)
    (inkstream-max-tokens . :maxTokens)
    (inkstream-explain-max-tokens . :explainMaxTokens)
    (inkstream-temperature . :temperature)
    (inkstream-first-token-timeout . :firstTokenTimeout)
    (inkstream-idle-timeout . :idleTimeout)
    (inkstream-connect-timeout . :connectTimeout)
    (inkstream-type-through . :typeThrough)
    (inkstream-debounce-min . :debounceMin)
    (inkstream-debounce-max . :debounceMax)
    (inkstream-enable . :enable)
    (inkstream-exclude . :exclude)
    (inkstream-proxy . :proxy)
    (inkstream-ca-file . :caFile))
  "Each server setting's variable and its key in the server's settings.")

(defun inkstream--set-setting (symbol value)
  "Set SYMBOL to VALUE and tell the running servers.
This is the `:set' function of the server settings, so `customize'
and `setopt' take effect without restarting the server."
  (set-default symbol value)
  (maphash (lambda (_root server)
             (when (eq (inkstream--server-state server) 'ready)
               (jsonrpc-notify (inkstream--server-conn server)
                               :workspace/didChangeConfiguration
                               (list :settings
                                     (list :inkstream (inkstream--settings))))))
           inkstream--servers))

;;;; Client options

(defcustom inkstream-server-command '("inkstream" "serve")
  "Command that starts the server, as a list of program and arguments."
  :type '(repeat string))

(defcustom inkstream-enabled-modes '(prog-mode)
  "Major modes in which `global-inkstream-mode' turns on `inkstream-mode'.
Modes derived from these count too.  t means every file buffer."
  :type '(choice (const :tag "All file buffers" t) (repeat symbol)))

(defcustom inkstream-language-ids
  '((emacs-lisp-mode . "emacs-lisp") (lisp-interaction-mode . "emacs-lisp")
    (js-mode . "javascript") (js2-mode . "javascript")
    (typescript-mode . "typescript") (c++-mode . "cpp")
    (sh-mode . "shellscript") (makefile-gmake-mode . "makefile")
    (tex-mode . "latex") (latex-mode . "latex"))
  "LSP language ids for major modes whose id is not the mode name.
Other modes send their name without \"-mode\" (and \"-ts\")."
  :type '(alist :key-type symbol :value-type string))

(defcustom inkstream-explain-timeout 600
  "Seconds an explanation may run before it is given up."
  :type 'number)

(defcustom inkstream-request-timeout 120
  "Seconds a completion request may run before it is given up.
The server has its own first-token and idle timeouts; this is a
last resort in case the server stops answering."
  :type 'number)

(defcustom inkstream-events-buffer-size 0
  "Size of the JSON-RPC events buffer; 0 disables it, nil is unbounded.
Logging every message slows streaming down: raise it only to debug."
  :type '(choice (const :tag "Unbounded" nil) integer))

;;;; Server settings (sent as initializationOptions; nil: the server's default)

(defcustom inkstream-provider nil
  "Which model answers: \"openai\" (an endpoint), \"offline\", or \"auto\".
With \"auto\" the offline model answers until a base URL or key is set."
  :type '(choice (const :tag "Server default" nil)
                 (const "auto") (const "openai") (const "offline"))
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-base-url nil
  "OpenAI-compatible endpoint, e.g. \"http://127.0.0.1:11434/v1\".
nil: the server's environment (INKSTREAM_BASE_URL, OPENAI_BASE_URL)."
  :type '(choice (const :tag "Server default" nil) string)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-model nil
  "Model name sent to the endpoint; nil: the server's default."
  :type '(choice (const :tag "Server default" nil) string)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-api-style nil
  "How to ask the endpoint: \"fim\", \"chat\" or \"auto\" (probed once)."
  :type '(choice (const :tag "Server default" nil)
                 (const "auto") (const "fim") (const "chat"))
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-fim-template nil
  "FIM template: \"auto\", \"server\", a family name or a template."
  :type '(choice (const :tag "Server default" nil) string)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-max-tokens nil
  "Completion length limit, in tokens."
  :type '(choice (const :tag "Server default" nil) integer)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-explain-max-tokens nil
  "Explanation length limit, in tokens."
  :type '(choice (const :tag "Server default" nil) integer)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-temperature nil
  "Sampling temperature."
  :type '(choice (const :tag "Server default" nil) number)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-first-token-timeout nil
  "Seconds the server waits for the model's first token."
  :type '(choice (const :tag "Server default" nil) number)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-idle-timeout nil
  "Seconds the server allows between two tokens."
  :type '(choice (const :tag "Server default" nil) number)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-connect-timeout nil
  "Seconds the server allows to connect to the endpoint."
  :type '(choice (const :tag "Server default" nil) number)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-type-through t
  "Non-nil: the server answers from completions the user types into."
  :type 'boolean
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-debounce-min nil
  "Shortest pause (seconds) before an automatic request asks the model."
  :type '(choice (const :tag "Server default" nil) number)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-debounce-max nil
  "Longest pause (seconds) before an automatic request asks the model."
  :type '(choice (const :tag "Server default" nil) number)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-enable nil
  "Per-language switches for the server, e.g. ((\"markdown\" . nil)).
Keys are LSP language ids; \"*\" is the default for the others."
  :type '(alist :key-type string :value-type boolean)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-exclude nil
  "Globs of files whose text is never sent to the model."
  :type '(repeat string)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-proxy nil
  "Forward proxy for the endpoint, e.g. \"http://proxy.example:3128\".
nil: the server's environment (INKSTREAM_PROXY, HTTPS_PROXY).  Keep
credentials in INKSTREAM_PROXY_USER and INKSTREAM_PROXY_PASSWORD."
  :type '(choice (const :tag "Server default" nil) string)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-ca-file nil
  "PEM bundle of certificate authorities to trust besides the system's."
  :type '(choice (const :tag "Server default" nil) file)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-next-edit-model nil
  "Model asked for next edits, e.g. \"zeta\"; nil: the server's choice.
With none set, the server's offline predictor answers, unless the
completion model is a next-edit model."
  :type '(choice (const :tag "Server default" nil) string)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-next-edit-base-url nil
  "Endpoint of the next-edit model; nil: the completion endpoint."
  :type '(choice (const :tag "Server default" nil) string)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defcustom inkstream-next-edit-format nil
  "Prompt format of the next-edit model; nil: \"auto\" (from its name).
The others are \"zeta\", \"instinct\", \"sweep\", \"chat\" and \"offline\"."
  :type '(choice (const :tag "Server default" nil) string)
  :set #'inkstream--set-setting :initialize #'custom-initialize-default)

(defface inkstream-ghost-face '((t :inherit shadow))
  "Face of the ghost text (the suggestion shown after point).")

(defun inkstream--settings ()
  "The server settings as a JSON object (plist); unset ones are left out."
  (let (plist)
    (pcase-dolist (`(,var . ,key) inkstream--setting-keys)
      (let ((value (symbol-value var)))
        (pcase var
          ('inkstream-type-through (setq value (if value t :json-false)))
          ('inkstream-enable
           (setq value (cl-loop for (lang . on) in value
                                append (list (intern (concat ":" lang))
                                             (if on t :json-false)))))
          ('inkstream-exclude (setq value (and value (vconcat value)))))
        (when value
          (setq plist (append plist (list key value))))))
    (let ((next-edit (append
                      (and inkstream-next-edit-model
                           (list :model inkstream-next-edit-model))
                      (and inkstream-next-edit-base-url
                           (list :baseUrl inkstream-next-edit-base-url))
                      (and inkstream-next-edit-format
                           (list :format inkstream-next-edit-format)))))
      (when next-edit
        (setq plist (append plist (list :nextEdit next-edit)))))
    (or plist (make-hash-table))))

;;;; Log

(defun inkstream--log (format-string &rest args)
  "Append FORMAT-STRING formatted with ARGS to the *inkstream-log* buffer."
  (with-current-buffer (get-buffer-create "*inkstream-log*")
    (unless (derived-mode-p 'special-mode)
      (special-mode)
      (buffer-disable-undo))
    (let ((inhibit-read-only t))
      (save-excursion
        (goto-char (point-max))
        (insert (apply #'format format-string args))
        (unless (bolp) (insert "\n"))
        (when (> (buffer-size) 1000000)   ; keep the last half megabyte
          (delete-region (point-min) (- (point-max) 500000)))))))

(defmacro inkstream--guard (&rest body)
  "Run BODY; log an error instead of signalling it.
Used in process filters, timers and hooks, which must never throw
into the user's command loop (a failing `post-command-hook'
function would even be removed from the hook)."
  (declare (indent 0) (debug t))
  `(condition-case-unless-debug err
       (progn ,@body)
     (error (inkstream--log "[inkstream.el] internal error: %S" err) nil)))

;;;; Servers

(defvar inkstream--token-counter 0
  "Counter for progress tokens.")

(defun inkstream--token (kind)
  "A fresh progress token for KIND."
  (format "inkstream-el-%s-%d" kind (cl-incf inkstream--token-counter)))

(defun inkstream--root ()
  "The project root of the current buffer, or its directory."
  (expand-file-name
   (or (when-let ((project (project-current))) (project-root project))
       default-directory)))

(defun inkstream--uri (file)
  "The file: URI of FILE."
  (concat "file://" (url-hexify-string (expand-file-name file)
                                       url-path-allowed-chars)))

(defun inkstream--start (root)
  "Start a server for ROOT and send `initialize'; return the server."
  (let* ((server (inkstream--server-make :root root))
         (name (format "inkstream %s" (abbreviate-file-name root)))
         (default-directory root)
         (stderr (make-pipe-process
                  :name (concat name " stderr") :noquery t :coding 'utf-8
                  :filter (lambda (_proc text)
                            (inkstream--guard (inkstream--log "%s" text)))
                  :sentinel #'ignore))
         (process
          (condition-case err
              (make-process :name name :command inkstream-server-command
                            :connection-type 'pipe :coding 'utf-8-emacs-unix
                            :noquery t :stderr stderr)
            (error (delete-process stderr)
                   (inkstream--server-failed
                    server (format "cannot start %s: %s"
                                   (string-join inkstream-server-command " ")
                                   (error-message-string err)))
                   nil))))
    (puthash root server inkstream--servers)
    (when process
      (setf (inkstream--server-conn server)
            (jsonrpc-process-connection
             :name name :process process
             :events-buffer-scrollback-size inkstream-events-buffer-size
             :notification-dispatcher
             (lambda (_conn method params)
               (inkstream--guard
                 (inkstream--on-notification server method params)))
             :request-dispatcher
             (lambda (_conn method _params) (inkstream--on-request method))
             :on-shutdown
             (lambda (_conn)
               (inkstream--guard (inkstream--on-exit server stderr)))))
      (inkstream--initialize server))
    server))

(defun inkstream--initialize (server)
  "Send `initialize' to SERVER, then `initialized' and what waited."
  (let ((root (inkstream--server-root server)))
    (jsonrpc-async-request
     (inkstream--server-conn server) :initialize
     (list :processId (emacs-pid)
           :clientInfo (list :name "inkstream.el" :version "0.1.0")
           :rootUri (inkstream--uri root)
           :workspaceFolders (vector (list :uri (inkstream--uri root)
                                           :name (file-name-nondirectory
                                                  (directory-file-name root))))
           :capabilities
           (list :general
                 (list :positionEncodings inkstream--position-encodings)
                 :window (list :workDoneProgress t)
                 :workspace (list :configuration :json-false)
                 :textDocument (list :inlineCompletion (make-hash-table)))
           :initializationOptions (inkstream--settings))
     :timeout 60
     :success-fn
     (lambda (result)
       (inkstream--guard
         (setf (inkstream--server-encoding server)
               (or (plist-get (plist-get result :capabilities)
                              :positionEncoding)
                   "utf-16"))
         (jsonrpc-notify (inkstream--server-conn server) :initialized
                         (make-hash-table))
         (setf (inkstream--server-state server) 'ready)
         (let ((pending (reverse (inkstream--server-pending server))))
           (setf (inkstream--server-pending server) nil)
           (dolist (fn pending) (inkstream--guard (funcall fn))))))
     :error-fn
     (lambda (err)
       (inkstream--guard
         (inkstream--server-failed
          server (format "initialize failed: %s" (plist-get err :message)))))
     :timeout-fn
     (lambda ()
       (inkstream--guard
         (inkstream--server-failed
          server "the server did not answer initialize"))))))

(defun inkstream--server-failed (server reason)
  "Mark SERVER as unusable for REASON and say so once."
  (unless (eq (inkstream--server-state server) 'dead)
    (setf (inkstream--server-state server) 'dead
          (inkstream--server-last-error server) reason
          (inkstream--server-pending server) nil)
    (inkstream--log "[inkstream.el] %s" reason)
    (message "inkstream: %s (see *inkstream-log*; M-x inkstream-restart)"
             reason)
    (when-let ((conn (inkstream--server-conn server)))
      (when (jsonrpc-running-p conn)
        (delete-process (jsonrpc--process conn))))
    (force-mode-line-update t)))

(defun inkstream--on-exit (server stderr)
  "SERVER's process ended; STDERR is its stderr pipe."
  (delete-process stderr)
  (let ((conn (inkstream--server-conn server)))
    (dolist (buffer (list (process-buffer (jsonrpc--process conn))
                          (jsonrpc-stderr-buffer conn)))
      (when (buffer-live-p buffer) (kill-buffer buffer)))
    (unless (inkstream--server-stopping server)
      (inkstream--server-failed
       server (format "the server exited with status %s"
                      (process-exit-status (jsonrpc--process conn))))))
  (setf (inkstream--server-state server) 'dead)
  (when (and inkstream--ghost
             (eq (inkstream--ghost-server inkstream--ghost) server))
    (inkstream--clear))
  (when (and inkstream--nes (eq (inkstream--nes-server inkstream--nes) server))
    (setf (inkstream--nes-id inkstream--nes) nil)
    (inkstream--nes-clear))
  (dolist (buffer (inkstream--server-buffers server))
    (when (buffer-live-p buffer)
      (with-current-buffer buffer
        (setq inkstream--opened nil)))))

(defun inkstream--on-request (method)
  "Answer the server's request METHOD."
  (pcase method
    ((or 'window/workDoneProgress/create 'window/showMessageRequest) nil)
    (_ (jsonrpc-error :code -32601
                      :message (format "%s not supported" method)))))

(defun inkstream--on-notification (server method params)
  "Handle notification METHOD with PARAMS from SERVER."
  (pcase method
    ('$/progress
     (let ((handler (gethash (plist-get params :token)
                             (inkstream--server-tokens server))))
       (when handler (funcall handler (plist-get params :value)))))
    ('window/showMessage
     (let ((text (plist-get params :message)))
       (inkstream--log "[showMessage] %s" text)
       (when (memq (plist-get params :type) '(1 2))
         (message "%s" text))))
    ('window/logMessage
     (inkstream--log "[logMessage] %s" (plist-get params :message)))))

(defun inkstream--watch-work (server token &optional keep-note)
  "Show SERVER's work-done progress on TOKEN in the mode line.
KEEP-NOTE non-nil: its end leaves the note on the last completion be."
  (puthash token
           (lambda (value)
             (let ((message (plist-get value :message)))
               (setf (inkstream--server-progress server)
                     (pcase (plist-get value :kind)
                       ("begin" "…")
                       ("report" (or message "…"))
                       (_ nil)))
               ;; why a completion is empty, as the server says it
               (when (and (equal (plist-get value :kind) "end") (not keep-note))
                 (setf (inkstream--server-note server)
                       (and (stringp message)
                            (string-prefix-p "no completion" message)
                            message))))
             (force-mode-line-update t))
           (inkstream--server-tokens server)))

(defun inkstream--forget-tokens (server tokens)
  "Stop listening on SERVER for progress TOKENS."
  (dolist (token tokens) (remhash token (inkstream--server-tokens server)))
  (setf (inkstream--server-progress server) nil)
  (force-mode-line-update t))

(defun inkstream--request (server method params &rest args)
  "Send request METHOD with PARAMS to SERVER; return (ID TIMER).
ARGS are those of `jsonrpc-async-request'.  The id is needed to send
`$/cancelRequest', and only `jsonrpc--async-request-1' returns it."
  (let ((sent (apply #'jsonrpc--async-request-1 (inkstream--server-conn server)
                     method params args)))
    (if (consp sent) sent (list sent nil))))

(defun inkstream--cancel (server id timer tokens)
  "Cancel request ID on SERVER: stop TIMER and listening to TOKENS."
  (when timer (cancel-timer timer))
  (inkstream--forget-tokens server tokens)
  (when (and id (eq (inkstream--server-state server) 'ready))
    (jsonrpc-notify (inkstream--server-conn server) :$/cancelRequest
                    (list :id id))))

(defun inkstream--note-result (server err)
  "Remember ERR (an error object, or nil on success) as SERVER's last error."
  (setf (inkstream--server-last-error server)
        (and err (plist-get err :message)))
  (force-mode-line-update t))

(defun inkstream--cancelled-p (err)
  "Return non-nil if ERR is a cancellation, not a failure."
  (memq (plist-get err :code) '(-32800 -32802)))

;;;; Documents

(defun inkstream--language-id ()
  "The LSP language id of the current buffer."
  (or (cdr (assq major-mode inkstream-language-ids))
      (replace-regexp-in-string "\\(-ts\\)?-mode\\'" ""
                                (symbol-name major-mode))))

(defun inkstream--buffer-uri ()
  "The URI of the current buffer."
  (if buffer-file-name
      (inkstream--uri buffer-file-name)
    (concat "untitled:" (url-hexify-string (buffer-name)))))

(defun inkstream--position (pos)
  "The LSP position of POS, in the server's position encoding."
  (save-excursion
    (save-restriction
      (widen)
      (goto-char pos)
      (let* ((bol (line-beginning-position))
             (column (- pos bol)))
        (when (equal (inkstream--server-encoding inkstream--server) "utf-16")
          ;; characters beyond the BMP are two UTF-16 code units
          (cl-incf column (cl-count-if
                           (lambda (c) (> c #xFFFF))
                           (buffer-substring-no-properties bol pos))))
        (list :line (1- (line-number-at-pos pos t)) :character column)))))

(defun inkstream--attach ()
  "Keep the server's view of the current buffer current; return the server.
Starts the server for the buffer's project if there is none."
  (unless (and inkstream--server
               (eq inkstream--server
                   (gethash (inkstream--server-root inkstream--server)
                            inkstream--servers)))
    (let ((root (inkstream--root)))
      (setq inkstream--server (or (gethash root inkstream--servers)
                                  (inkstream--start root))
            inkstream--opened nil)))
  (add-hook 'before-change-functions #'inkstream--before-change nil t)
  (add-hook 'after-change-functions #'inkstream--after-change nil t)
  (add-hook 'kill-buffer-hook #'inkstream--detach nil t)
  (add-hook 'change-major-mode-hook #'inkstream--detach nil t)
  (add-hook 'after-revert-hook #'inkstream--reopen nil t)
  (add-hook 'post-command-hook #'inkstream--post-command)
  (let ((server inkstream--server) (buffer (current-buffer)))
    (pcase (inkstream--server-state server)
      ('ready (inkstream--open))
      ('starting
       (push (lambda () (when (buffer-live-p buffer)
                          (with-current-buffer buffer (inkstream--open))))
             (inkstream--server-pending server))))
    server))

(defun inkstream--open ()
  "Send `didOpen' for the current buffer unless already sent."
  (let ((server inkstream--server))
    (when (and (not inkstream--opened)
               (eq (inkstream--server-state server) 'ready))
      (setq inkstream--opened t)
      (cl-pushnew (current-buffer) (inkstream--server-buffers server))
      (save-restriction
        (widen)
        (jsonrpc-notify
         (inkstream--server-conn server) :textDocument/didOpen
         (list :textDocument
               (list :uri (inkstream--buffer-uri)
                     :languageId (inkstream--language-id)
                     :version (cl-incf inkstream--version)
                     :text (buffer-substring-no-properties
                            (point-min) (point-max)))))))))

(defun inkstream--detach ()
  "Tell the server the current buffer is closed, and clear its ghost text."
  (when (and inkstream--ghost (eq (inkstream--ghost-buffer inkstream--ghost)
                                  (current-buffer)))
    (inkstream--clear))
  (when (and inkstream--nes (eq (inkstream--nes-buffer inkstream--nes)
                                (current-buffer)))
    (inkstream--nes-clear))
  (when (and inkstream--opened inkstream--server
             (eq (inkstream--server-state inkstream--server) 'ready))
    (jsonrpc-notify (inkstream--server-conn inkstream--server)
                    :textDocument/didClose
                    (list :textDocument (list :uri (inkstream--buffer-uri)))))
  (when inkstream--server
    (cl-callf2 delq (current-buffer)
               (inkstream--server-buffers inkstream--server)))
  (setq inkstream--opened nil inkstream--server nil)
  (remove-hook 'before-change-functions #'inkstream--before-change t)
  (remove-hook 'after-change-functions #'inkstream--after-change t)
  (remove-hook 'kill-buffer-hook #'inkstream--detach t)
  (remove-hook 'change-major-mode-hook #'inkstream--detach t)
  (remove-hook 'after-revert-hook #'inkstream--reopen t))

(defun inkstream--reopen ()
  "Send the whole reverted buffer again."
  (inkstream--guard
    (let ((server inkstream--server))
      (inkstream--detach)
      (setq inkstream--server server)
      (inkstream--attach))))

(defun inkstream--before-change (beg end)
  "Remember the LSP positions of BEG and END before they change."
  (inkstream--guard
    (when inkstream--opened
      (setq inkstream--before
            (list beg end
                  (inkstream--position beg) (inkstream--position end))))))

(defun inkstream--after-change (beg end old-length)
  "Send the change from BEG to END (it replaced OLD-LENGTH characters)."
  (inkstream--guard
    (when (and inkstream--opened
               (eq (inkstream--server-state inkstream--server) 'ready))
      (let ((change
             (pcase inkstream--before
               ;; the usual case: what before-change saw is what changed
               (`(,b ,e ,start ,stop)
                (when (and (= b beg) (= e (+ beg old-length)))
                  (list :range (list :start start :end stop)
                        :text (buffer-substring-no-properties beg end)))))))
        (setq inkstream--before nil)
        (jsonrpc-notify
         (inkstream--server-conn inkstream--server) :textDocument/didChange
         (list :textDocument (list :uri (inkstream--buffer-uri)
                                   :version (cl-incf inkstream--version))
               :contentChanges
               (vector (or change   ; else the whole text: always right
                           (save-restriction
                             (widen)
                             (list :text (buffer-substring-no-properties
                                          (point-min) (point-max))))))))))))

(defun inkstream--when-ready (fn)
  "Call FN with the server once it is ready and knows the current buffer."
  (let ((server (inkstream--attach)) (buffer (current-buffer)))
    (pcase (inkstream--server-state server)
      ('ready (funcall fn server))
      ('starting
       (push (lambda () (when (buffer-live-p buffer)
                          (with-current-buffer buffer (funcall fn server))))
             (inkstream--server-pending server)))
      (_ (user-error "inkstream: %s" (inkstream--server-last-error server))))))

;;;; Ghost text

(defvar inkstream-ghost-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "TAB") #'inkstream-accept)
    (define-key map (kbd "<tab>") #'inkstream-accept)
    (define-key map (kbd "M-f") #'inkstream-accept-word)
    (define-key map (kbd "C-e") #'inkstream-accept-line)
    (define-key map (kbd "C-g") #'inkstream-dismiss)
    map)
  "Keys active only while ghost text is shown (the overlay's `keymap').")

(defvar inkstream--last nil
  "(BUFFER TICK POINT) after the previous command.")

(defun inkstream--typed (ghost)
  "What the user typed into GHOST since it started.
nil if anything else changed."
  (let ((start (marker-position (inkstream--ghost-start ghost))))
    (when (and start
               (>= (point) start)
               (= (buffer-size)
                  (+ (inkstream--ghost-size ghost) (- (point) start))))
      (buffer-substring-no-properties start (point)))))

(defun inkstream--show (ghost)
  "Draw what GHOST has that the user has not typed yet.
Drop GHOST if the user typed something else.  Return non-nil if the
buffer still follows GHOST (the user typed into it)."
  (with-current-buffer (inkstream--ghost-buffer ghost)
    (let ((typed (inkstream--typed ghost))
          (text (inkstream--ghost-text ghost))
          (overlay (inkstream--ghost-overlay ghost)))
      (cond
       ((and typed (string-prefix-p typed text)
             (< (length typed) (length text)))
        (let ((rest (substring text (length typed))))
          (unless overlay
            ;; rear-advance, so the overlay's keymap applies at point
            (setq overlay (make-overlay (point) (point) nil nil t))
            (setf (inkstream--ghost-overlay ghost) overlay)
            (overlay-put overlay 'inkstream-ghost t)
            (overlay-put overlay 'keymap inkstream-ghost-map)
            (overlay-put overlay 'priority 100))
          (move-overlay overlay (point) (point))
          (unless (equal rest (overlay-get overlay 'inkstream-text))
            (let ((shown (propertize rest 'face 'inkstream-ghost-face)))
              (put-text-property 0 1 'cursor t shown)   ; cursor stays at point
              (overlay-put overlay 'inkstream-text rest)
              (overlay-put overlay 'after-string shown)))
          t))
       ;; typed all the model wrote so far: nothing to draw until it writes more
       ((and (equal typed text) (not (inkstream--ghost-done ghost)))
        (when overlay
          (delete-overlay overlay)
          (setf (inkstream--ghost-overlay ghost) nil))
        t)
       (t (inkstream--clear)
          (and typed (equal typed text)))))))

(defun inkstream--clear ()
  "Remove the ghost text, and cancel its request unless it is done."
  (when-let ((ghost inkstream--ghost))
    (setq inkstream--ghost nil)
    (when (inkstream--ghost-overlay ghost)
      (delete-overlay (inkstream--ghost-overlay ghost)))
    (if (inkstream--ghost-done ghost)
        (inkstream--forget-tokens (inkstream--ghost-server ghost)
                                  (inkstream--ghost-tokens ghost))
      (inkstream--cancel (inkstream--ghost-server ghost)
                         (inkstream--ghost-id ghost)
                         (inkstream--ghost-timer ghost)
                         (inkstream--ghost-tokens ghost)))
    (set-marker (inkstream--ghost-start ghost) nil)))

(defun inkstream--item-text (list)
  "The text of the first item of the InlineCompletionList LIST."
  (let* ((items (plist-get list :items))
         (item (and (vectorp items) (> (length items) 0) (aref items 0)))
         (text (plist-get item :insertText)))
    (if (stringp text) text "")))

(defun inkstream--complete-at-point (trigger-kind)
  "Ask the server for a suggestion at point; TRIGGER-KIND 1 is explicit."
  (inkstream--clear)
  (let ((server inkstream--server))
    (when (and server inkstream--opened
               (eq (inkstream--server-state server) 'ready))
      (let* ((token (inkstream--token "ghost"))
             (work (inkstream--token "work"))
             (ghost (inkstream--ghost-make
                     :buffer (current-buffer) :server server
                     :tokens (list token work)
                     :start (copy-marker (point)) :size (buffer-size))))
        (setq inkstream--ghost ghost)
        (puthash token (lambda (value)
                         (when (eq ghost inkstream--ghost)
                           (setf (inkstream--ghost-text ghost)
                                 (inkstream--item-text value))
                           (inkstream--show ghost)))
                 (inkstream--server-tokens server))
        (inkstream--watch-work server work)
        (pcase-let
            ((`(,id ,timer)
              (inkstream--request
               server :inkstream/inlineCompletion
               (list :textDocument (list :uri (inkstream--buffer-uri))
                     :position (inkstream--position (point))
                     :context (list :triggerKind trigger-kind)
                     :partialResultToken token :workDoneToken work)
               :timeout inkstream-request-timeout
               :success-fn
               (lambda (result)
                 (inkstream--guard
                   (inkstream--ghost-finished ghost result nil)))
               :error-fn
               (lambda (err)
                 (inkstream--guard (inkstream--ghost-finished ghost nil err)))
               :timeout-fn
               (lambda ()
                 (inkstream--guard
                   (when (eq ghost inkstream--ghost)
                     (inkstream--note-result
                      server '(:message "no answer in time"))
                     (inkstream--clear)))))))
          (setf (inkstream--ghost-id ghost) id
                (inkstream--ghost-timer ghost) timer))))))

(defun inkstream--ghost-finished (ghost result err)
  "GHOST's request answered RESULT, or failed with ERR."
  (when (eq ghost inkstream--ghost)
    (setf (inkstream--ghost-done ghost) t)
    (let ((server (inkstream--ghost-server ghost)))
      (inkstream--forget-tokens server (inkstream--ghost-tokens ghost))
      (cond
       (err
        (unless (inkstream--cancelled-p err)
          (inkstream--log "[inkstream.el] completion failed: %s"
                          (plist-get err :message))
          (inkstream--note-result server err))
        (inkstream--clear))
       (t
        (inkstream--note-result server nil)
        (let ((final (inkstream--item-text result)))
          ;; the final text is never shorter than the last snapshot
          (when (>= (length final) (length (inkstream--ghost-text ghost)))
            (setf (inkstream--ghost-text ghost) final)))
        (inkstream--show ghost))))))

(defun inkstream--post-command ()
  "Follow what the last command did to the ghost text, and maybe ask for one.
Decides from what changed (text, point, buffer), not from the fact that
a command ran: this hook also runs when a command loop starts."
  (inkstream--guard
    (unless (minibufferp)
      (let* ((buffer (current-buffer))
             (tick (buffer-chars-modified-tick))
             (previous inkstream--last)
             (same (eq (car previous) buffer))
             (changed (and same (/= tick (nth 1 previous))))
             (moved (and same (/= (point) (nth 2 previous)))))
        (setq inkstream--last (list buffer tick (point)))
        (when (and inkstream--ghost
                   (not (eq (inkstream--ghost-buffer inkstream--ghost) buffer)))
          (inkstream--clear))           ; switched buffers
        (inkstream--nes-post-command changed)
        (when (or changed moved)
          (unless (and inkstream--ghost (inkstream--show inkstream--ghost))
            (when (and changed inkstream-mode (not buffer-read-only))
              (inkstream--complete-at-point 2))))))))

;;;; Accepting

(defun inkstream--shown ()
  "The ghost text shown at point, or nil."
  (when-let* ((ghost inkstream--ghost)
              (overlay (inkstream--ghost-overlay ghost)))
    (and (eq (overlay-buffer overlay) (current-buffer))
         (= (overlay-start overlay) (point))
         (overlay-get overlay 'inkstream-text))))

(defun inkstream--accept (part)
  "Insert PART of the shown ghost text, a function of the shown text."
  (let ((shown (inkstream--shown)))
    (unless shown (user-error "No inkstream suggestion here"))
    (insert (funcall part shown))
    (inkstream--show inkstream--ghost)
    ;; already followed: the post-command hook must not take this for typing
    (setq inkstream--last
          (list (current-buffer) (buffer-chars-modified-tick) (point)))))

(defun inkstream-accept ()
  "Insert the ghost text shown at point, exactly as shown, as one undo step."
  (interactive)
  (inkstream--accept #'identity))

(defun inkstream-accept-word ()
  "Insert the next word of the ghost text, with what precedes it."
  (interactive)
  (inkstream--accept
   (lambda (shown)
     (if (string-match "\\`\\W*\\w+" shown) (match-string 0 shown) shown))))

(defun inkstream-accept-line ()
  "Insert the ghost text up to the end of its line.
If the ghost text starts with a newline, insert the newline and the
next line."
  (interactive)
  (inkstream--accept
   (lambda (shown)
     (string-match "\\`\n?[^\n]*" shown)
     (match-string 0 shown))))

(defun inkstream-dismiss ()
  "Remove the ghost text and stop the model writing it."
  (interactive)
  (inkstream--clear))

;;;###autoload
(defun inkstream-complete ()
  "Ask for a suggestion at point now."
  (interactive)
  (inkstream--when-ready (lambda (_server) (inkstream--complete-at-point 1))))

;;;; Next edits

(defcustom inkstream-next-edit t
  "Non-nil: show next-edit suggestions after a pause in editing.
The server predicts the edits that follow the last one (the rest of a
rename, say) and they are drawn where they would apply; TAB jumps to
the first and applies it (`inkstream-nes-accept')."
  :type 'boolean)

(defcustom inkstream-next-edit-delay 0.3
  "Seconds of pause after a change before next edits are asked for."
  :type 'number)

(defface inkstream-nes-delete-face
  '((((class color) (background dark)) :background "#5f2f2f" :strike-through t)
    (((class color)) :background "#ffd7d7" :strike-through t)
    (t :strike-through t))
  "Face of the text a next edit removes.")

(defface inkstream-nes-insert-face
  '((((class color) (background dark)) :background "#2f5f2f")
    (((class color)) :background "#d7ffd7")
    (t :underline t))
  "Face of the text a next edit inserts (shown beside what it replaces).")

(defface inkstream-nes-hint-face '((t :inherit shadow))
  "Face of the hint at point that says where the next edit is.")

(defvar inkstream--nes-requests 0
  "How many next-edit requests were sent (the tests count them).")

(defvar inkstream--nes-timer nil
  "Timer that asks for next edits once editing pauses.")

(defvar-local inkstream--nes-active nil
  "Non-nil while next edits show in this buffer: `inkstream-nes-map' applies.")

(defvar inkstream-nes-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "TAB") #'inkstream-nes-accept)
    (define-key map (kbd "<tab>") #'inkstream-nes-accept)
    (define-key map (kbd "C-g") #'inkstream-nes-dismiss)
    map)
  "Keys active only while a next edit shows.
Ghost text at point takes precedence: its overlay keymap comes first.")

(add-to-list 'minor-mode-map-alist (cons 'inkstream--nes-active inkstream-nes-map))

(defun inkstream--point (position)
  "The buffer position of the LSP POSITION (server's position encoding)."
  (save-excursion
    (save-restriction
      (widen)
      (goto-char (point-min))
      (forward-line (plist-get position :line))
      (let ((column (plist-get position :character))
            (eol (line-end-position)))
        (if (equal (inkstream--server-encoding inkstream--server) "utf-16")
            (while (and (> column 0) (< (point) eol))
              (cl-decf column (if (> (char-after) #xFFFF) 2 1))
              (forward-char))
          (goto-char (min eol (+ (point) column))))
        (point)))))

(defun inkstream--nes-edit-id (edit)
  "The id of EDIT (the first argument of its command), or nil."
  (let ((args (plist-get (plist-get edit :command) :arguments)))
    (and (vectorp args) (> (length args) 0) (aref args 0))))

(defun inkstream--nes-show-hint (nes)
  "Show, at point, where NES's first edit is when it is on other lines."
  (when-let ((hint (inkstream--nes-hint nes)))
    (delete-overlay hint)
    (setf (inkstream--nes-hint nes) nil))
  (when-let* ((first (cdr (car (inkstream--nes-edits nes))))
              ((eq (current-buffer) (inkstream--nes-buffer nes)))
              ((inkstream--nes-away-p first)))
    (let ((hint (make-overlay (line-end-position) (line-end-position) nil t nil)))
      (overlay-put hint 'inkstream-nes 'hint)
      (overlay-put hint 'after-string
                   (propertize (format "  TAB: next edit at line %d"
                                       (line-number-at-pos (overlay-start first) t))
                               'face 'inkstream-nes-hint-face))
      (setf (inkstream--nes-hint nes) hint))))

(defun inkstream--nes-away-p (overlay)
  "Non-nil if point is on none of OVERLAY's lines."
  (or (< (point) (save-excursion (goto-char (overlay-start overlay))
                                 (line-beginning-position)))
      (> (point) (save-excursion (goto-char (overlay-end overlay))
                                 (line-end-position)))))

(defun inkstream--nes-add (nes edits)
  "Draw EDITS (a vector from the server) for NES; drop stale ones."
  (with-current-buffer (inkstream--nes-buffer nes)
    (let ((seen (mapcar (lambda (e) (inkstream--nes-edit-id (car e)))
                        (inkstream--nes-edits nes)))
          (server (inkstream--nes-server nes)))
      (seq-doseq (edit (if (vectorp edits) edits []))
        (let* ((range (plist-get edit :range))
               (text (plist-get edit :text))
               (id (inkstream--nes-edit-id edit))
               (version (plist-get (plist-get edit :textDocument) :version)))
          (when (and range (stringp text)
                     (eql version (inkstream--nes-version nes))
                     (eql version inkstream--version)
                     (not (and id (member id seen))))
            (let* ((beg (inkstream--point (plist-get range :start)))
                   (end (max beg (inkstream--point (plist-get range :end))))
                   (overlay (make-overlay beg end nil t nil)))
              (overlay-put overlay 'inkstream-nes (or id t))
              (overlay-put overlay 'priority 90)
              (when (< beg end)
                (overlay-put overlay 'face 'inkstream-nes-delete-face))
              (unless (equal text "")
                (overlay-put overlay 'after-string
                             (propertize text 'face 'inkstream-nes-insert-face)))
              (setf (inkstream--nes-edits nes)
                    (append (inkstream--nes-edits nes) (list (cons edit overlay))))
              (push id seen)
              (setq inkstream--nes-active t)
              (when id
                (jsonrpc-notify (inkstream--server-conn server)
                                :textDocument/didShowInlineEdit
                                (list :item (list :command
                                                  (list :arguments (vector id))))))))))
      (inkstream--nes-show-hint nes))))

(defun inkstream--nes-stop-request (nes)
  "Cancel the request of NES if it is still running (the model stops)."
  (when (inkstream--nes-id nes)
    (inkstream--cancel (inkstream--nes-server nes) (inkstream--nes-id nes)
                       (inkstream--nes-timer nes) (inkstream--nes-tokens nes))
    (setf (inkstream--nes-id nes) nil)))

(defun inkstream--nes-clear (&optional dismissed)
  "Remove the next edits and stop their request.
DISMISSED non-nil: tell the server the edits shown were dismissed."
  (when-let ((nes inkstream--nes))
    (setq inkstream--nes nil)
    (inkstream--nes-stop-request nes)
    (let ((ids (delq nil (mapcar (lambda (e) (inkstream--nes-edit-id (car e)))
                                 (inkstream--nes-edits nes))))
          (server (inkstream--nes-server nes)))
      (when (and dismissed ids (eq (inkstream--server-state server) 'ready))
        (jsonrpc-notify (inkstream--server-conn server) :inkstream/didDismissNextEdit
                        (list :ids (vconcat ids)))))
    (dolist (e (inkstream--nes-edits nes)) (delete-overlay (cdr e)))
    (when (inkstream--nes-hint nes) (delete-overlay (inkstream--nes-hint nes)))
    (when (buffer-live-p (inkstream--nes-buffer nes))
      (with-current-buffer (inkstream--nes-buffer nes)
        (setq inkstream--nes-active nil)))))

(defun inkstream--next-edit ()
  "Ask the server for next edits at point."
  (inkstream--nes-clear t)
  (let ((server inkstream--server))
    (when (and server inkstream--opened
               (eq (inkstream--server-state server) 'ready)
               (not (inkstream--server-no-next-edit server)))
      (let* ((token (inkstream--token "nes"))
             (work (inkstream--token "work"))
             (nes (inkstream--nes-make
                   :buffer (current-buffer) :server server :tokens (list token work)
                   :version inkstream--version :tick (buffer-chars-modified-tick))))
        (setq inkstream--nes nes)
        (puthash token (lambda (value)
                         (when (eq nes inkstream--nes)
                           (inkstream--nes-add nes (plist-get value :edits))))
                 (inkstream--server-tokens server))
        (inkstream--watch-work server work t)
        (pcase-let
            ((`(,id ,timer)
              (inkstream--request
               server :inkstream/nextEdit
               (list :textDocument (list :uri (inkstream--buffer-uri)
                                         :version inkstream--version)
                     :position (inkstream--position (point))
                     :partialResultToken token :workDoneToken work)
               :timeout inkstream-request-timeout
               :success-fn
               (lambda (result)
                 (inkstream--guard (inkstream--nes-finished nes result nil)))
               :error-fn
               (lambda (err)
                 (inkstream--guard (inkstream--nes-finished nes nil err)))
               :timeout-fn
               (lambda ()
                 (inkstream--guard
                   (when (eq nes inkstream--nes)
                     (inkstream--nes-clear t)))))))
          (cl-incf inkstream--nes-requests)
          (setf (inkstream--nes-id nes) id
                (inkstream--nes-timer nes) timer))))))

(defun inkstream--nes-finished (nes result err)
  "NES's request answered RESULT (all its edits), or failed with ERR."
  (when (eq nes inkstream--nes)
    (setf (inkstream--nes-id nes) nil)
    (inkstream--forget-tokens (inkstream--nes-server nes) (inkstream--nes-tokens nes))
    (cond
     ((and err (eql (plist-get err :code) -32601)) ; an older server: stop asking it
      (setf (inkstream--server-no-next-edit (inkstream--nes-server nes)) t))
     (err (unless (inkstream--cancelled-p err)
            (inkstream--log "[inkstream.el] next edit failed: %s" (plist-get err :message))
            (inkstream--note-result (inkstream--nes-server nes) err)))
     (t (inkstream--nes-add nes (plist-get result :edits))))
    (unless (inkstream--nes-edits nes)
      (inkstream--nes-clear))))

(defun inkstream--nes-schedule ()
  "Ask for next edits once editing pauses for `inkstream-next-edit-delay'."
  (when inkstream--nes-timer (cancel-timer inkstream--nes-timer))
  (setq inkstream--nes-timer nil)
  (when (and inkstream-next-edit inkstream-mode (not buffer-read-only))
    (let ((buffer (current-buffer)) (tick (buffer-chars-modified-tick)))
      (setq inkstream--nes-timer
            (run-at-time inkstream-next-edit-delay nil
                         (lambda ()
                           (inkstream--guard
                             (setq inkstream--nes-timer nil)
                             (when (and (eq buffer (current-buffer))
                                        (= tick (buffer-chars-modified-tick)))
                               (inkstream--next-edit)))))))))

(defun inkstream--nes-post-command (changed)
  "Follow the last command: CHANGED non-nil means the user changed the text."
  (let ((nes inkstream--nes))
    (cond
     ((null nes))
     ((not (eq (inkstream--nes-buffer nes) (current-buffer)))
      (inkstream--nes-clear t))         ; switched buffers
     ((and changed (/= (buffer-chars-modified-tick) (inkstream--nes-tick nes)))
      (inkstream--nes-clear t))         ; typed something else
     (t (inkstream--nes-show-hint nes))))
  (when changed (inkstream--nes-schedule)))

(defun inkstream-nes-accept ()
  "Jump to the next edit if point is not on its lines, else apply it.
Applying is one undo step; the edits after it stay shown."
  (interactive)
  (let* ((nes inkstream--nes)
         (first (and nes (eq (inkstream--nes-buffer nes) (current-buffer))
                     (car (inkstream--nes-edits nes)))))
    (unless first (user-error "No next edit here"))
    (let ((edit (car first)) (overlay (cdr first)))
      (if (inkstream--nes-away-p overlay)
          (progn (push-mark nil t)
                 (goto-char (overlay-start overlay)))
        ;; the document changes: the server ends the request, no more edits come
        (inkstream--nes-stop-request nes)
        (let ((beg (overlay-start overlay)) (end (overlay-end overlay)))
          (pop (inkstream--nes-edits nes))
          (delete-overlay overlay)
          (goto-char beg)
          (delete-region beg end)
          (insert (plist-get edit :text)))
        (setf (inkstream--nes-tick nes) (buffer-chars-modified-tick))
        (let ((command (plist-get edit :command))
              (server (inkstream--nes-server nes)))
          (when command
            (jsonrpc-async-request
             (inkstream--server-conn server) :workspace/executeCommand
             (list :command (plist-get command :command)
                   :arguments (or (plist-get command :arguments) []))
             :success-fn #'ignore
             :error-fn (lambda (err)
                         (inkstream--log "[inkstream.el] %s failed: %s"
                                         (plist-get command :command)
                                         (plist-get err :message))))))
        (unless (inkstream--nes-edits nes)
          (inkstream--nes-clear)
          (inkstream--nes-schedule)))
      ;; already followed: the post-command hook must not take this for typing
      (setq inkstream--last (list (current-buffer) (buffer-chars-modified-tick) (point)))
      (when inkstream--nes (inkstream--nes-show-hint inkstream--nes)))))

(defun inkstream-nes-dismiss ()
  "Hide the next edits and stop the model writing them."
  (interactive)
  (inkstream--nes-clear t))

;;;###autoload
(defun inkstream-nes-trigger ()
  "Ask for next edits at point now."
  (interactive)
  (inkstream--when-ready (lambda (_server) (inkstream--next-edit))))

;;;; Modes

(defun inkstream--lighter ()
  "The mode-line lighter: idle, streaming, the last error, or an empty completion.
Streaming shows tokens and tok/s; ∅ says the last completion was empty, and
its help-echo says why, as the server put it."
  (let ((server inkstream--server))
    (cond
     ((null server) " ink")
     ((eq (inkstream--server-state server) 'dead)
      (propertize " ink!" 'face 'error
                  'help-echo (inkstream--server-last-error server)))
     ((inkstream--server-progress server)
      (format " ink[%s]" (inkstream--server-progress server)))
     ((inkstream--server-last-error server)
      (propertize " ink!" 'face 'warning
                  'help-echo (inkstream--server-last-error server)))
     ((eq (inkstream--server-state server) 'starting) " ink…")
     ((inkstream--server-note server)
      (propertize " ink∅" 'help-echo (inkstream--server-note server)))
     (t " ink"))))

;;;###autoload
(define-minor-mode inkstream-mode
  "Ghost text from `inkstream serve' that grows while the model writes.
When typing pauses, the suggestion appears after point.  While it is
shown, \\<inkstream-ghost-map>\\[inkstream-accept] accepts it, \
\\[inkstream-accept-word] accepts a word, \\[inkstream-accept-line] a line,
and \\[inkstream-dismiss] dismisses it."
  :lighter (:eval (inkstream--lighter))
  :group 'inkstream
  (if inkstream-mode
      (inkstream--attach)
    (inkstream--detach)))

(defun inkstream--turn-on ()
  "Turn on `inkstream-mode' in file buffers of `inkstream-enabled-modes'."
  (when (and buffer-file-name (not (minibufferp))
             (or (eq inkstream-enabled-modes t)
                 (apply #'derived-mode-p inkstream-enabled-modes)))
    (inkstream-mode 1)))

;;;###autoload
(define-globalized-minor-mode global-inkstream-mode inkstream-mode
  inkstream--turn-on
  :group 'inkstream)

;;;; Explain

(defvar inkstream-explain-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "C-c C-k") #'inkstream-stop)
    (define-key map (kbd "q") #'inkstream-stop)
    map)
  "Keys of the *inkstream-explain* buffer.")

(define-minor-mode inkstream-explain-mode
  "Keys of the *inkstream-explain* buffer.
\\<inkstream-explain-mode-map>\\[inkstream-stop] stops the explanation."
  :lighter " ink-explain")

(defun inkstream--explain-buffer ()
  "Empty *inkstream-explain*, ready for a new explanation."
  (with-current-buffer (get-buffer-create "*inkstream-explain*")
    (let ((mode (if (fboundp 'markdown-mode) 'markdown-mode 'text-mode)))
      (unless (derived-mode-p mode) (funcall mode)))
    (inkstream-explain-mode 1)
    (add-hook 'kill-buffer-hook #'inkstream--explain-killed nil t)
    (setq buffer-read-only t)
    (let ((inhibit-read-only t)) (erase-buffer))
    (current-buffer)))

(defun inkstream--explain-append (text)
  "Append TEXT to *inkstream-explain*; windows at its end follow."
  (when-let ((buffer (get-buffer "*inkstream-explain*")))
    (with-current-buffer buffer
      (let ((inhibit-read-only t)
            (following (cl-remove-if-not
                        (lambda (window) (= (window-point window) (point-max)))
                        (get-buffer-window-list buffer nil t))))
        (save-excursion
          (goto-char (point-max))
          (insert text))
        (dolist (window following) (set-window-point window (point-max)))))))

(defun inkstream--explain-end (job why)
  "JOB ended: write WHY on a last line, and forget it."
  (when (eq job inkstream--explain)
    (setq inkstream--explain nil)
    (inkstream--forget-tokens (inkstream--job-server job)
                              (inkstream--job-tokens job))
    (inkstream--explain-append
     (format "\n\n[inkstream: %s after %.1f s]\n" why
             (float-time (time-subtract nil (inkstream--job-started job)))))))

(defun inkstream--job-cancel (job)
  "Cancel JOB's request, so the model stops."
  (inkstream--cancel (inkstream--job-server job) (inkstream--job-id job)
                     (inkstream--job-timer job) (inkstream--job-tokens job)))

(defun inkstream--explain-stop (why)
  "Cancel the running explanation, saying WHY."
  (when-let ((job inkstream--explain))
    (inkstream--job-cancel job)
    (inkstream--explain-end job why)))

(defun inkstream--explain-killed ()
  "The explain buffer is being killed: stop the model."
  (inkstream--guard
    (when-let ((job inkstream--explain))
      (setq inkstream--explain nil)
      (inkstream--job-cancel job))))

(defun inkstream--explain-range ()
  "The region if active, else the defun at point, as a list (BEG END)."
  (if (use-region-p)
      (list (region-beginning) (region-end))
    (let ((bounds (bounds-of-thing-at-point 'defun)))
      (unless bounds (user-error "Select a region, or move into a function"))
      (list (car bounds) (cdr bounds)))))

;;;###autoload
(defun inkstream-explain (beg end)
  "Explain the code from BEG to END (the region, or the defun at point).
The explanation streams into *inkstream-explain*, where
\\<inkstream-explain-mode-map>\\[inkstream-stop] stops it."
  (interactive (inkstream--explain-range))
  (inkstream--explain-stop "stopped: replaced by a new explanation")
  (let ((beg (copy-marker beg)) (end (copy-marker end)))
    (display-buffer (inkstream--explain-buffer))
    (inkstream--when-ready
     (lambda (server)
       (let* ((token (inkstream--token "explain"))
              (work (inkstream--token "work"))
              (job (inkstream--job-make :server server :tokens (list token work)
                                        :started (current-time))))
         (setq inkstream--explain job)
         (puthash token (lambda (value)
                          (when (eq job inkstream--explain)
                            (inkstream--explain-append
                             (or (plist-get value :delta) ""))))
                  (inkstream--server-tokens server))
         (inkstream--watch-work server work)
         (pcase-let
             ((`(,id ,timer)
               (inkstream--request
                server :inkstream/explain
                (list :textDocument (list :uri (inkstream--buffer-uri))
                      :range (list :start (inkstream--position beg)
                                   :end (inkstream--position end))
                      :partialResultToken token :workDoneToken work)
                :timeout inkstream-explain-timeout
                :success-fn
                (lambda (_result)
                  (inkstream--guard
                    (inkstream--note-result server nil)
                    (inkstream--explain-end job "done")))
                :error-fn
                (lambda (err)
                  (inkstream--guard
                    (unless (inkstream--cancelled-p err)
                      (inkstream--note-result server err))
                    (inkstream--explain-end
                     job (format "failed: %s" (plist-get err :message)))))
                :timeout-fn
                (lambda ()
                  (inkstream--guard
                    (inkstream--explain-stop
                     (format "failed: no answer within %s s"
                             inkstream-explain-timeout)))))))
           (setf (inkstream--job-id job) id (inkstream--job-timer job) timer))
         (set-marker beg nil)
         (set-marker end nil))))))

(defun inkstream-stop ()
  "Stop the running explanation or suggestion; the model stops too.
In *inkstream-explain* with nothing running, quit its window."
  (interactive)
  (cond
   (inkstream--explain (inkstream--explain-stop "stopped by you"))
   (inkstream-explain-mode (quit-window))
   ((or inkstream--ghost inkstream--nes)
    (inkstream--clear)
    (inkstream--nes-clear t))
   (t (message "inkstream: nothing is running"))))

;;;; Status and server control

(defun inkstream--current-server ()
  "The server of the current buffer, or any server, or nil."
  (or inkstream--server
      (gethash (inkstream--root) inkstream--servers)
      (car (hash-table-values inkstream--servers))))

;;;###autoload
(defun inkstream-status ()
  "Show the endpoint, model and last error of the current buffer's server."
  (interactive)
  (let ((server (inkstream--current-server)))
    (cond
     ((null server) (message "inkstream: no server running"))
     ((not (eq (inkstream--server-state server) 'ready))
      (message "inkstream: server %s%s" (inkstream--server-state server)
               (if-let ((err (inkstream--server-last-error server)))
                   (format ": %s" err) "")))
     (t
      (jsonrpc-async-request
       (inkstream--server-conn server) :inkstream/status (make-hash-table)
       :success-fn
       (lambda (status)
         (inkstream--guard
           (message "inkstream: %s %s, model %s (%s)%s"
                    (plist-get status :provider)
                    (or (plist-get status :baseUrl) "")
                    (plist-get status :model) (plist-get status :apiStyle)
                    (concat
                     (if-let ((err (or (plist-get status :lastError)
                                       (inkstream--server-last-error server))))
                         (format "; last error: %s" err)
                       "; no error")
                     (if-let ((why (plist-get status :emptyReason)))
                         (format "; %s" why)
                       "")))))
       :error-fn
       (lambda (err)
         (inkstream--guard
           (message "inkstream: status failed: %s"
                    (plist-get err :message)))))))))

(defun inkstream--shutdown-server (server)
  "Shut SERVER down and forget it."
  (setf (inkstream--server-stopping server) t)
  (remhash (inkstream--server-root server) inkstream--servers)
  (when-let ((conn (inkstream--server-conn server)))
    (when (jsonrpc-running-p conn)
      (ignore-errors
        (when (eq (inkstream--server-state server) 'ready)
          (jsonrpc-request conn :shutdown nil :timeout 3)
          (jsonrpc-notify conn :exit nil)))
      (ignore-errors (jsonrpc-shutdown conn)))))

(defun inkstream-shutdown ()
  "Stop every inkstream server."
  (interactive)
  (inkstream--clear)
  (inkstream--nes-clear)
  (inkstream--explain-stop "stopped: the server was shut down")
  (mapc #'inkstream--shutdown-server (hash-table-values inkstream--servers)))

(defun inkstream-restart ()
  "Restart the current buffer's server, and reopen its buffers."
  (interactive)
  (let* ((server (inkstream--current-server))
         (buffers (and server (inkstream--server-buffers server))))
    (when server (inkstream--shutdown-server server))
    (dolist (buffer (cons (current-buffer) buffers))
      (when (buffer-live-p buffer)
        (with-current-buffer buffer
          (when (or inkstream-mode (memq buffer buffers))
            (setq inkstream--server nil inkstream--opened nil)
            (inkstream--attach)))))))

(provide 'inkstream)
;;; inkstream.el ends here
