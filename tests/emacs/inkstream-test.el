;;; inkstream-test.el --- ERT tests for inkstream.el in real Emacs -*- lexical-binding: t; -*-

;;; Commentary:

;; Run by tests/emacs/test_emacs.py, one test per Emacs, with the real
;; server and the scripted upstream that the pytest side set up:
;;
;;   emacs --batch -Q -L editors/emacs -l tests/emacs/inkstream-test.el \
;;         --eval '(ert-run-tests-batch-and-exit "^NAME$")'
;;
;; Environment: INKSTREAM_TEST_PYTHON (runs `-m inkstream serve'),
;; INKSTREAM_TEST_BASE_URL (the upstream), INKSTREAM_TEST_DIR (scratch),
;; INKSTREAM_TEST_ENCODINGS (optional, e.g. "utf-16").
;;
;; The tests drive the package as a user would: keys through
;; `execute-kbd-macro' (keymaps and command hooks run), and a timer
;; samples the `inkstream-ghost' overlays while the upstream streams.
;; What only the upstream can see (did the client hang up?) is asked
;; with `inkstream-test-checkpoint': the pytest side answers in a file.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'json)
(require 'python)
(require 'inkstream)

(defvar inkstream-test-dir (file-name-as-directory (getenv "INKSTREAM_TEST_DIR")))

(setq inkstream-server-command
      (list (getenv "INKSTREAM_TEST_PYTHON") "-m" "inkstream" "serve")
      inkstream-base-url (getenv "INKSTREAM_TEST_BASE_URL")
      inkstream-model "test-model"
      inkstream-api-style "fim"
      inkstream-fim-template "server"
      inkstream-first-token-timeout 5.0
      inkstream-idle-timeout 5.0
      python-indent-guess-indent-offset nil)

(when-let ((encodings (getenv "INKSTREAM_TEST_ENCODINGS")))
  (setq inkstream--position-encodings (vconcat (split-string encodings ","))))

;;;; Helpers

(add-hook 'kill-emacs-hook
          (lambda ()
            (when-let ((log (get-buffer "*inkstream-log*")))
              (with-current-buffer log
                (message "---- *inkstream-log* (tail) ----\n%s"
                         (buffer-substring-no-properties
                          (max (point-min) (- (point-max) 4000)) (point-max)))))))

(defun inkstream-test-wait (predicate &optional seconds)
  "Let process output and timers run until PREDICATE holds or SECONDS pass."
  (let ((deadline (+ (float-time) (or seconds 20))))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.01))
    (funcall predicate)))

(defun inkstream-test-checkpoint (name &optional arg)
  "Ask the pytest side NAME (with ARG) and return its answer."
  (let ((reply (expand-file-name (concat name ".reply") inkstream-test-dir)))
    (message "CHECKPOINT %s %s" name (or arg ""))
    (should (inkstream-test-wait (lambda () (file-exists-p reply)) 30))
    (with-temp-buffer
      (insert-file-contents reply)
      (buffer-string))))

(defun inkstream-test-open (text &optional name)
  "Visit a file NAME holding TEXT in the selected window, point at <CURSOR>.
Turn on `inkstream-mode' and wait until the server knows the buffer."
  (let ((file (expand-file-name (or name "demo.py") inkstream-test-dir)))
    (with-temp-file file (insert (replace-regexp-in-string "<CURSOR>" "" text)))
    (switch-to-buffer (find-file-noselect file))
    (goto-char (if-let ((i (cl-search "<CURSOR>" text))) (1+ i) (point-max)))
    (inkstream-mode 1)
    (should (inkstream-test-wait (lambda () inkstream--opened)))
    (current-buffer)))

(defun inkstream-test-ghosts ()
  "The texts of the ghost overlays in the current buffer."
  (cl-loop for overlay in (overlays-in (point-min) (point-max))
           when (overlay-get overlay 'inkstream-ghost)
           collect (substring-no-properties (overlay-get overlay 'after-string))))

(defun inkstream-test-ghost ()
  "The one ghost text shown, or nil."
  (let ((ghosts (inkstream-test-ghosts)))
    (should (<= (length ghosts) 1))
    (car ghosts)))

(defvar inkstream-test-samples nil
  "Samples, newest first: (TIME GHOST-TEXT STREAMING).")

(defmacro inkstream-test-sampling (&rest body)
  "Run BODY while a timer samples the ghost text every 10 ms."
  (declare (indent 0))
  `(let* ((buffer (current-buffer))
          (timer (run-at-time
                  0 0.01
                  (lambda ()
                    (when (buffer-live-p buffer)
                      (with-current-buffer buffer
                        (push (list (float-time) (inkstream-test-ghost)
                                    (and inkstream--ghost
                                         (not (inkstream--ghost-done inkstream--ghost))))
                              inkstream-test-samples)))))))
     (setq inkstream-test-samples nil)
     (unwind-protect (progn ,@body)
       (cancel-timer timer))))

(defun inkstream-test-done-p ()
  "Non-nil once no completion request runs."
  (or (null inkstream--ghost) (inkstream--ghost-done inkstream--ghost)))

(defun inkstream-test-type (keys)
  "Type KEYS (a `kbd' string) through the command loop."
  (execute-kbd-macro (kbd keys)))

(defun inkstream-test-write-capture (name)
  "Save the buffer around point and the ghost text to NAME.json for the docs."
  (let ((json-encoding-pretty-print t)
        (capture
         (list (cons 'file (file-name-nondirectory buffer-file-name))
               (cons 'before (buffer-substring-no-properties (point-min) (point)))
               (cons 'ghost (or (inkstream-test-ghost) ""))
               (cons 'after (buffer-substring-no-properties (point) (point-max)))
               (cons 'lighter (substring-no-properties (inkstream--lighter))))))
    (with-temp-file (expand-file-name (concat name ".json") inkstream-test-dir)
      (insert (json-encode capture)))))

(defconst inkstream-test-doc "def add(a, b):\n    <CURSOR>\n\nprint(add(1, 2))\n")

(defun inkstream-test-messages ()
  "The lines of *Messages*."
  (with-current-buffer (messages-buffer)
    (split-string (buffer-string) "\n" t)))

;;;; Ghost text

(ert-deftest inkstream-test-ghost-grows ()
  "The ghost text grows in several steps and never vanishes while streaming."
  (inkstream-test-open inkstream-test-doc)
  (should (eq (key-binding (kbd "TAB")) 'indent-for-tab-command))
  (inkstream-test-sampling
    (inkstream-test-type "t")
    (should (inkstream-test-wait
             (lambda () (let ((g (inkstream-test-ghost))) (and g (> (length g) 5))))))
    (inkstream-test-write-capture "ghost-midway")
    (should (inkstream-test-wait #'inkstream-test-done-p)))
  (let* ((samples (reverse inkstream-test-samples))
         (from-first (cl-member-if #'cadr samples))
         (streaming (cl-remove-if-not #'cl-caddr from-first))
         (steps (cl-remove-duplicates (mapcar #'cadr streaming) :test #'equal
                                      :from-end t)))
    (message "ghost steps while streaming: %S" steps)
    ;; grew in several steps while the upstream was still writing
    (should (>= (length steps) 3))
    (cl-loop for (earlier later) on steps while later
             do (should (string-prefix-p earlier later)))
    ;; never absent from the first snapshot to the end
    (should-not (cl-some (lambda (sample) (null (cadr sample))) from-first)))
  (should (equal (inkstream-test-ghost) "otal = a + b\n    return total"))
  (should (eq (key-binding (kbd "TAB")) 'inkstream-accept))
  (should (string-match-p "\\`def add(a, b):\n    t\\'"
                          (buffer-substring-no-properties (point-min) (point))))
  (inkstream-test-write-capture "ghost-final"))

(ert-deftest inkstream-test-accept ()
  "TAB inserts exactly the final ghost text, as one undo step; then TAB indents."
  (inkstream-test-open inkstream-test-doc)
  (inkstream-test-type "t")
  (should (inkstream-test-wait (lambda () (and (inkstream-test-done-p) (inkstream-test-ghost)))))
  (let ((ghost (inkstream-test-ghost))
        (before (buffer-string)))
    (should (equal ghost "otal = a + b\n    return total"))
    (inkstream-test-type "TAB")
    (should (equal (buffer-string)
                   (concat "def add(a, b):\n    t" ghost "\n\nprint(add(1, 2))\n")))
    (should (null (inkstream-test-ghosts)))
    (should (null inkstream--ghost))
    (should (eq (key-binding (kbd "TAB")) 'indent-for-tab-command))
    (inkstream-test-type "C-_")
    (should (equal (buffer-string) before))))

(ert-deftest inkstream-test-accept-word-and-line ()
  "Word and line accept insert the next word and the rest of the line."
  (inkstream-test-open inkstream-test-doc)
  (inkstream-test-type "t")
  (should (inkstream-test-wait (lambda () (and (inkstream-test-done-p) (inkstream-test-ghost)))))
  (should (equal (inkstream-test-ghost) "otal = a + b\n    return total"))
  (let ((start (point)))
    (inkstream-test-type "M-f")
    (should (equal (buffer-substring-no-properties start (point)) "otal"))
    (should (equal (inkstream-test-ghost) " = a + b\n    return total"))
    (inkstream-test-type "C-e")
    (should (equal (buffer-substring-no-properties start (point)) "otal = a + b"))
    (should (equal (inkstream-test-ghost) "\n    return total"))
    (inkstream-test-type "C-e")
    (should (equal (buffer-substring-no-properties start (point))
                   "otal = a + b\n    return total"))
    (should (null (inkstream-test-ghosts)))
    (should (equal (buffer-string)
                   "def add(a, b):\n    total = a + b\n    return total\n\nprint(add(1, 2))\n")))
  (should (equal (inkstream-test-checkpoint "requests") "1")))

(defun inkstream-test-cancels-with (keys)
  "Show slow ghost text, type KEYS, and check that the upstream hangs up."
  (inkstream-test-open inkstream-test-doc)
  (inkstream-test-type "t")
  (should (inkstream-test-wait (lambda () (inkstream-test-ghost))))
  (should-not (inkstream-test-done-p))
  (let ((buffer (current-buffer))
        (ghost inkstream--ghost))
    (inkstream-test-type keys)
    (should (null (with-current-buffer buffer (inkstream-test-ghosts))))
    ;; gone (typing something else asks anew: that is a new suggestion)
    (should-not (eq inkstream--ghost ghost)))
  (should (equal (inkstream-test-checkpoint "hangup" "0") "hung-up")))

(ert-deftest inkstream-test-dismiss ()
  "C-g (`inkstream-dismiss') removes the ghost text and the model stops."
  (inkstream-test-cancels-with "C-g"))

(ert-deftest inkstream-test-move-point ()
  "Moving point removes the ghost text and the model stops."
  (inkstream-test-cancels-with "C-b"))

(ert-deftest inkstream-test-switch-buffer ()
  "Switching to another buffer removes the ghost text and the model stops."
  (inkstream-test-cancels-with "C-x b *scratch* RET")
  (should (equal (buffer-name) "*scratch*")))

(ert-deftest inkstream-test-mismatch ()
  "Typing what the suggestion does not start with stops the model."
  (inkstream-test-cancels-with "x"))

(ert-deftest inkstream-test-type-through ()
  "Typing what the suggestion starts with keeps the stream and the ghost text."
  (inkstream-test-open inkstream-test-doc)
  (inkstream-test-sampling
    (inkstream-test-type "t")
    (should (inkstream-test-wait
             (lambda () (let ((g (inkstream-test-ghost))) (and g (> (length g) 3))))))
    (should-not (inkstream-test-done-p))
    (inkstream-test-type "o")
    (let ((after (inkstream-test-ghost)))
      (should after)
      (should (string-prefix-p "tal" after)))
    (setq inkstream-test-samples nil)
    (should (inkstream-test-wait #'inkstream-test-done-p)))
  ;; the ghost text never vanished after the matching key
  (should-not (cl-some (lambda (sample) (null (cadr sample))) inkstream-test-samples))
  (should (equal (inkstream-test-ghost) "tal = a + b\n    return total"))
  (should (equal (inkstream-test-checkpoint "stream") "1 completed")))

;;;; Explain

(ert-deftest inkstream-test-explain-streams ()
  "The explanation streams into *inkstream-explain* in several steps."
  (inkstream-test-open inkstream-test-doc)
  (goto-char (point-min))
  (forward-line 1)
  (let ((sizes nil)
        (timer nil))
    (setq timer (run-at-time
                 0 0.01 (lambda ()
                          (when-let ((b (get-buffer "*inkstream-explain*")))
                            (push (cons (buffer-size b) (and inkstream--explain t)) sizes)))))
    (unwind-protect
        (progn
          (inkstream-test-type "M-x inkstream-explain RET")
          (should (inkstream-test-wait (lambda () (and (get-buffer "*inkstream-explain*")
                                                       (null inkstream--explain)
                                                       (> (length sizes) 10))))))
      (cancel-timer timer))
    (let ((growing (cl-remove-duplicates
                    (mapcar #'car (cl-remove-if-not #'cdr (reverse sizes))))))
      (message "explain sizes while streaming: %S" growing)
      (should (>= (length growing) 3))))
  (with-current-buffer "*inkstream-explain*"
    (should (derived-mode-p 'text-mode))
    (should (string-prefix-p "`add` returns the sum of its two arguments."
                             (buffer-string)))
    (should (string-match-p "\n\\[inkstream: done after [0-9.]+ s\\]\n\\'" (buffer-string)))))

(ert-deftest inkstream-test-explain-stop ()
  "C-c C-k stops the explanation and the model; killing the buffer does too."
  (inkstream-test-open inkstream-test-doc)
  (goto-char (point-min))
  (forward-line 1)
  (inkstream-explain (point-min) (point-max))
  (should (inkstream-test-wait
           (lambda () (> (buffer-size (get-buffer "*inkstream-explain*")) 20))))
  (switch-to-buffer "*inkstream-explain*")
  (should (eq (key-binding (kbd "C-c C-k")) 'inkstream-stop))
  (should (eq (key-binding (kbd "q")) 'inkstream-stop))
  (inkstream-test-type "C-c C-k")
  (should (null inkstream--explain))
  (should (string-match-p "\n\\[inkstream: stopped by you after [0-9.]+ s\\]\n\\'"
                          (buffer-string)))
  (should (equal (inkstream-test-checkpoint "hangup" "0") "hung-up"))
  ;; a second one, stopped by killing its buffer
  (switch-to-buffer "demo.py")
  (inkstream-explain (point-min) (point-max))
  (should (inkstream-test-wait
           (lambda () (> (buffer-size (get-buffer "*inkstream-explain*")) 20))))
  (kill-buffer "*inkstream-explain*")
  (should (null inkstream--explain))
  (should (equal (inkstream-test-checkpoint "hangup" "1") "hung-up")))

;;;; Errors, status, positions, modes

(ert-deftest inkstream-test-empty-completion ()
  "An empty completion is not silence: the lighter shows it, with the server's reason."
  (inkstream-test-open inkstream-test-doc)
  (inkstream-test-type "t")
  (should (inkstream-test-wait
           (lambda () (inkstream--server-note inkstream--server))))
  (should (equal (inkstream--server-note inkstream--server)
                 "no completion: the model wrote nothing"))
  (should (equal (substring-no-properties (inkstream--lighter)) " ink∅"))
  (should (equal (get-text-property 0 'help-echo (inkstream--lighter))
                 "no completion: the model wrote nothing")))

(ert-deftest inkstream-test-upstream-error ()
  "An upstream error shows one message and signals nothing."
  (inkstream-test-open inkstream-test-doc)
  (let ((before (length (inkstream-test-messages))))
    (dotimes (_ 2)
      (inkstream-test-type "t")
      (should (inkstream-test-wait
               (lambda () (and (null inkstream--ghost)
                               (inkstream--server-last-error inkstream--server))))))
    (should (equal (inkstream-test-checkpoint "requests") "2"))
    (let ((new (nthcdr before (inkstream-test-messages))))
      (message "messages: %S" new)
      (should (= 1 (cl-count-if (lambda (line) (string-prefix-p "inkstream:" line)) new)))
      (should-not (cl-some (lambda (line) (string-match-p "error in process\\|Error running timer" line))
                           new))))
  (should (equal (substring-no-properties (inkstream--lighter)) " ink!"))
  (inkstream-status)
  (should (inkstream-test-wait
           (lambda () (cl-some (lambda (line) (string-match-p "model test-model.*last error: .*500" line))
                               (inkstream-test-messages))))))

(ert-deftest inkstream-test-positions ()
  "Non-ASCII text before point: the server sees exactly the buffer's text."
  (inkstream-test-open "greeting = \"😋 café\"<CURSOR>\nprint(greeting)\n")
  (should (equal (inkstream--server-encoding inkstream--server)
                 (aref inkstream--position-encodings 0)))
  (inkstream-test-type "SPC +")
  (should (inkstream-test-wait (lambda () (and (inkstream-test-done-p) (inkstream-test-ghost)))))
  (inkstream-test-type "TAB")
  (should (equal (buffer-string) "greeting = \"😋 café\" + \"ü\"\nprint(greeting)\n"))
  (should (equal (inkstream-test-checkpoint "prompt")
                 "greeting = \"😋 café\" +|\nprint(greeting)\n")))

(ert-deftest inkstream-test-global-mode ()
  "`global-inkstream-mode' turns the mode on in `inkstream-enabled-modes' only."
  (global-inkstream-mode 1)
  (let ((code (find-file-noselect (expand-file-name "a.py" inkstream-test-dir)))
        (notes (find-file-noselect (expand-file-name "notes.txt" inkstream-test-dir))))
    (should (buffer-local-value 'inkstream-mode code))
    (should-not (buffer-local-value 'inkstream-mode notes))
    (with-current-buffer code
      (should (inkstream-test-wait (lambda () inkstream--opened)))))
  (global-inkstream-mode -1))

(ert-deftest inkstream-test-restart ()
  "`inkstream-restart' starts a new server that knows the open buffers."
  (inkstream-test-open inkstream-test-doc)
  (let ((old inkstream--server))
    (inkstream-restart)
    (should (eq (inkstream--server-state old) 'dead))
    (should (inkstream-test-wait (lambda () inkstream--opened)))
    (should-not (eq inkstream--server old))
    (should (eq (inkstream--server-state inkstream--server) 'ready)))
  (inkstream-test-type "t")
  (should (inkstream-test-wait (lambda () (and (inkstream-test-done-p) (inkstream-test-ghost)))))
  (should (equal (inkstream-test-ghost) "otal = a + b\n    return total")))

(ert-deftest inkstream-test-settings ()
  "The defcustoms become the server's settings; unset ones are left out."
  (let ((inkstream-base-url "http://127.0.0.1:1/v1") (inkstream-model "m")
        (inkstream-provider nil) (inkstream-api-style nil) (inkstream-fim-template nil)
        (inkstream-first-token-timeout nil) (inkstream-idle-timeout nil)
        (inkstream-max-tokens 64) (inkstream-type-through nil)
        (inkstream-enable '(("markdown" . nil) ("*" . t)))
        (inkstream-exclude '("*.secret")))
    (should (equal (json-parse-string (json-serialize (inkstream--settings)
                                                      :false-object :json-false)
                                      :object-type 'alist :false-object :false)
                   '((baseUrl . "http://127.0.0.1:1/v1") (model . "m") (maxTokens . 64)
                     (typeThrough . :false)
                     (enable . ((markdown . :false) (* . t)))
                     (exclude . ["*.secret"]))))))

(provide 'inkstream-test)
;;; inkstream-test.el ends here
