;;; inkstream-nes-test.el --- ERT tests of next edits in real Emacs -*- lexical-binding: t; -*-

;;; Commentary:

;; Run by tests/emacs/test_emacs_next_edit.py, one test per Emacs, like
;; inkstream-test.el (whose helpers these tests use): the real server,
;; keys through `execute-kbd-macro', and what only the upstream sees
;; asked with `inkstream-test-checkpoint'.  The next edits are read
;; from the `inkstream-nes' overlays, as the user sees them.

;;; Code:

(require 'inkstream-test)

(setq inkstream-next-edit-delay 0.05)

(defconst inkstream-nes-test-doc
  "def area(width, height):\n    <CURSOR>size = width * height\n    print(size)\n    return size\n")

(defun inkstream-nes-test-edits ()
  "The next edits drawn: (LINE REMOVED INSERTED FACE), in buffer order."
  (sort (cl-loop for o in (overlays-in (point-min) (point-max))
                 for p = (overlay-get o 'inkstream-nes)
                 when (and p (not (eq p 'hint)))
                 collect (list (line-number-at-pos (overlay-start o) t)
                               (buffer-substring-no-properties (overlay-start o) (overlay-end o))
                               (substring-no-properties (or (overlay-get o 'after-string) ""))
                               (overlay-get o 'face)))
        (lambda (a b) (< (car a) (car b)))))

(defun inkstream-nes-test-hint ()
  "The hint drawn at point's line, as (LINE TEXT), or nil."
  (cl-loop for o in (overlays-in (point-min) (point-max))
           when (eq (overlay-get o 'inkstream-nes) 'hint)
           return (list (line-number-at-pos (overlay-start o) t)
                        (substring-no-properties (overlay-get o 'after-string)))))

(defun inkstream-nes-test-require ()
  "Skip the test when the server does not answer `inkstream/nextEdit'."
  (inkstream-nes-trigger)
  (inkstream-test-wait (lambda () (or (inkstream-nes-test-edits)
                                      (inkstream--server-no-next-edit inkstream--server)
                                      (null inkstream--nes)))
                       10)
  (when (inkstream--server-no-next-edit inkstream--server)
    (message "SKIP: the server does not answer inkstream/nextEdit yet (issue 17)")
    (ert-skip "the server does not answer inkstream/nextEdit")))

(defun inkstream-nes-test-runs ()
  "The buffer as drawn, for the docs: a list of (TEXT KIND).
KIND is normal, delete, insert, hint or cursor."
  (let ((inserts nil) (deletes nil) (runs nil))
    (dolist (o (overlays-in (point-min) (point-max)))
      (when-let ((p (overlay-get o 'inkstream-nes)))
        (when (< (overlay-start o) (overlay-end o))
          (push (cons (overlay-start o) (overlay-end o)) deletes))
        (when-let ((s (overlay-get o 'after-string)))
          (push (list (overlay-end o) (substring-no-properties s)
                      (if (eq p 'hint) "hint" "insert"))
                inserts))))
    (cl-loop for pos from (point-min) to (point-max)
             do (when (= pos (point)) (push (list "" "cursor") runs))
             do (dolist (i inserts)
                  (when (= (car i) pos) (push (cdr i) runs)))
             do (when (< pos (point-max))
                  (push (list (string (char-after pos))
                              (if (cl-some (lambda (d) (and (>= pos (car d)) (< pos (cdr d))))
                                           deletes)
                                  "delete" "normal"))
                        runs)))
    (nreverse runs)))

(defun inkstream-nes-test-capture (name caption)
  "Save the buffer as drawn to NAME.json, with CAPTION."
  (let ((capture (json-encode (list (cons 'caption caption)
                                    (cons 'file (file-name-nondirectory buffer-file-name))
                                    (cons 'runs (vconcat (mapcar #'vconcat (inkstream-nes-test-runs))))))))
    (with-temp-file (expand-file-name (concat name ".json") inkstream-test-dir)
      (insert capture))))

(defun inkstream-nes-test-rename ()
  "Open the sample, rename `size' on line 2 and wait for the next edits."
  (setq inkstream-provider "offline")
  (inkstream-test-open inkstream-nes-test-doc "area.py")
  (inkstream-nes-test-require)
  (inkstream-test-type "M-d t o t a l C-a")  ; C-a: no ghost text at point
  (should (equal (buffer-substring-no-properties (line-beginning-position) (line-end-position))
                 "    total = width * height"))
  (should (inkstream-test-wait (lambda () (= 2 (length (inkstream-nes-test-edits)))))))

;;;; (1) offline: a rename at one place, TAB jumps, TAB applies

(ert-deftest inkstream-nes-test-tab-jumps-then-applies ()
  "The other places of a rename show; TAB jumps to each, TAB applies it."
  (inkstream-nes-test-rename)
  (should (equal (inkstream-nes-test-edits)
                 '((3 "size" "total" inkstream-nes-delete-face)
                   (4 "size" "total" inkstream-nes-delete-face))))
  (should (equal (inkstream-nes-test-hint) '(2 "  TAB: next edit at line 3")))
  (should (eq (key-binding (kbd "TAB")) 'inkstream-nes-accept))
  (inkstream-nes-test-capture "nes-1" "rename size -> total on line 2: the rest shows")
  (inkstream-test-type "TAB")                          ; jump
  (should (equal (list (line-number-at-pos) (current-column)) '(3 10)))
  (should (null (inkstream-nes-test-hint)))
  (inkstream-nes-test-capture "nes-2" "TAB: point jumps to it")
  (inkstream-test-type "TAB")                          ; apply
  (should (equal (list (line-number-at-pos) (current-column)) '(3 15)))
  (should (equal (inkstream-nes-test-edits) '((4 "size" "total" inkstream-nes-delete-face))))
  (should (equal (inkstream-nes-test-hint) '(3 "  TAB: next edit at line 4")))
  (inkstream-nes-test-capture "nes-3" "TAB again: applied; the next one waits")
  (inkstream-test-type "TAB TAB")
  (should (equal (buffer-string) (replace-regexp-in-string
                                  "size" "total"
                                  (replace-regexp-in-string "<CURSOR>" "" inkstream-nes-test-doc))))
  (should (inkstream-test-wait (lambda () (null inkstream--nes))))
  (should (null (inkstream-nes-test-edits)))
  (should (eq (key-binding (kbd "TAB")) 'indent-for-tab-command))
  (inkstream-test-type "C-_")                          ; one undo step per edit
  (should (string-match-p "print(total)\n    return size\n\\'" (buffer-string))))

(ert-deftest inkstream-nes-test-ghost-text-first ()
  "TAB accepts ghost text while it shows; once it is gone, TAB is the next edit's."
  (inkstream-test-open inkstream-nes-test-doc "area.py")  ; completions from the upstream
  (inkstream-nes-test-require)
  (inkstream-test-type "M-d t o t a l")
  (should (inkstream-test-wait (lambda () (and (inkstream-test-done-p) (inkstream-test-ghost)))))
  (inkstream-test-type "M-x inkstream-nes-trigger RET")
  (should (inkstream-test-wait (lambda () (= 2 (length (inkstream-nes-test-edits))))))
  (should (inkstream-test-ghost))
  (should (eq (key-binding (kbd "TAB")) 'inkstream-accept))
  (inkstream-test-type "C-g")                          ; the ghost text's C-g first
  (should (null (inkstream-test-ghost)))
  (should (= 2 (length (inkstream-nes-test-edits))))
  (should (eq (key-binding (kbd "TAB")) 'inkstream-nes-accept))
  (inkstream-test-type "TAB")
  (should (equal (list (line-number-at-pos) (current-column)) '(3 10))))

(ert-deftest inkstream-nes-test-non-ascii ()
  "Edits after non-ASCII text land on the right characters."
  (setq inkstream-provider "offline")
  (inkstream-test-open
   "def area(width, height):\n    <CURSOR>size = width * height\n    print(\"😋 é\", size)\n" "area.py")
  (inkstream-nes-test-require)
  (inkstream-test-type "M-d t o t a l C-a")
  (should (inkstream-test-wait (lambda () (inkstream-nes-test-edits))))
  (should (equal (inkstream-nes-test-edits) '((3 "size" "total" inkstream-nes-delete-face))))
  (inkstream-test-type "TAB TAB")
  (should (string-suffix-p "    print(\"😋 é\", total)\n" (buffer-string))))

;;;; (4) typing elsewhere hides the next edits

(ert-deftest inkstream-nes-test-typing-elsewhere-hides ()
  "Typing anything else removes the next edits; they do not come back."
  (inkstream-nes-test-rename)
  (inkstream-test-type "M-< C-e SPC #")
  (should (null (inkstream-nes-test-edits)))
  (should (null (inkstream-nes-test-hint)))
  ;; asked again after the pause: typing is no substitution to repeat
  (let ((asked inkstream--nes-requests))
    (should (inkstream-test-wait (lambda () (and (> inkstream--nes-requests asked)
                                                 (or (null inkstream--nes)
                                                     (null (inkstream--nes-id inkstream--nes)))))
                                 10)))
  (should (null (inkstream-nes-test-edits))))

(ert-deftest inkstream-nes-test-dismiss ()
  "C-g removes the next edits; TAB then indents again."
  (inkstream-nes-test-rename)
  (inkstream-test-type "C-g")
  (should (null (inkstream-nes-test-edits)))
  (should (null inkstream--nes))
  (should (eq (key-binding (kbd "TAB")) 'indent-for-tab-command)))

(ert-deftest inkstream-nes-test-off ()
  "With `inkstream-next-edit' nil nothing is asked for."
  (setq inkstream-provider "offline" inkstream-next-edit nil)
  (inkstream-test-open inkstream-nes-test-doc "area.py")
  (inkstream-test-type "M-d t o t a l C-a")
  (should (null inkstream--nes-timer))                 ; nothing will be asked
  (should (= inkstream--nes-requests 0))
  (should (null (inkstream-nes-test-edits))))

;;;; (2), (3) a next-edit model streaming hunks

(defconst inkstream-nes-test-long
  (concat "def area(width, height):\n    <CURSOR>size = width * height\n    print(size)\n"
          "    a = 1\n    b = 2\n    c = 3\n    d = 4\n    return size\n"))

(defun inkstream-nes-test-model ()
  "Open the long sample with a next-edit model, add a factor on line 2, ask.
The edit is made outside the command loop, so no completion is asked
for; `inkstream-nes-trigger' asks for the next edits.  The offline
predictor repeats none of it: what shows comes from the model."
  (setq inkstream-next-edit-model "zeta"
        inkstream-first-token-timeout 30.0)  ; the first request imports the HTTP client
  (inkstream-test-open inkstream-nes-test-long "area.py")
  (end-of-line)
  (insert " * depth")
  (inkstream-test-type "M-x inkstream-nes-trigger RET"))

(ert-deftest inkstream-nes-test-model-streams ()
  "The first hunk is drawn before the second arrives, and stays drawn."
  (inkstream-nes-test-model)
  (should (inkstream-test-wait (lambda () (assq 3 (inkstream-nes-test-edits))) 60))
  ;; drawn now: has the upstream sent the second hunk yet?
  (should (equal (inkstream-test-checkpoint "second-hunk-sent") "no"))
  (let ((first (assq 3 (inkstream-nes-test-edits))) (samples nil) (timer nil))
    (should (equal first '(3 "" " * depth" nil)))
    (setq timer (run-at-time 0 0.01 (lambda () (push (inkstream-nes-test-edits) samples))))
    (unwind-protect
        (should (inkstream-test-wait (lambda () (= 2 (length (inkstream-nes-test-edits)))) 60))
      (cancel-timer timer))
    ;; the first stayed drawn, unchanged, while the second arrived
    (should (cl-every (lambda (edits) (equal (assq 3 edits) first)) samples))
    (should (equal (inkstream-nes-test-edits) '((3 "" " * depth" nil) (8 "" " * depth" nil)))))
  (inkstream-test-type "TAB TAB TAB TAB")
  (should (equal (buffer-string)
                 (concat "def area(width, height):\n    size = width * height * depth\n"
                         "    print(size * depth)\n    a = 1\n    b = 2\n    c = 3\n    d = 4\n"
                         "    return size * depth\n"))))

(ert-deftest inkstream-nes-test-model-lines ()
  "A line the model removes is marked whole; a line it adds shows where it goes."
  (inkstream-nes-test-model)
  (should (inkstream-test-wait (lambda () (= 2 (length (inkstream-nes-test-edits)))) 60))
  (let ((edits (inkstream-nes-test-edits)))
    (should (equal (car edits) '(4 "    a = 1\n" "" inkstream-nes-delete-face)))
    ;; the added line reads where it goes: before "    return size"
    (should (string-match-p "e = 5\n" (nth 2 (cadr edits)))))
  (inkstream-test-type "TAB TAB TAB TAB")
  (should (equal (buffer-string)
                 (concat "def area(width, height):\n    size = width * height * depth\n"
                         "    print(size)\n    b = 2\n    c = 3\n    d = 4\n    e = 5\n"
                         "    return size\n"))))

(ert-deftest inkstream-nes-test-model-dismiss ()
  "C-g while the model writes: the upstream sees the hang-up."
  (inkstream-nes-test-model)
  (should (inkstream-test-wait (lambda () (inkstream-nes-test-edits)) 60))
  (inkstream-test-type "C-g")
  (should (null (inkstream-nes-test-edits)))
  (should (equal (inkstream-test-checkpoint "hangup" "0") "hung-up")))

(provide 'inkstream-nes-test)
;;; inkstream-nes-test.el ends here
