// stint focus for KWin (Plasma 5.27 and 6): on every focus change, calls
// dev.stint.Agent1.FocusChanged(title, class, pid) on the agent's session-bus
// name. No agent running: the call goes nowhere, which costs nothing.
// Every argument is a string: KWin picks the D-Bus type of a number itself.
function report(w) {
    callDBus('dev.stint.Agent', '/dev/stint/Agent', 'dev.stint.Agent1', 'FocusChanged',
        w ? String(w.caption || '') : '',
        w ? String(w.resourceClass || '') : '',
        w && w.pid > 0 ? String(w.pid) : '0');
}

if (workspace.windowActivated !== undefined) {
    // Plasma 6
    workspace.windowActivated.connect(report);
    report(workspace.activeWindow);
} else {
    // Plasma 5
    workspace.clientActivated.connect(report);
    report(workspace.activeClient);
}
