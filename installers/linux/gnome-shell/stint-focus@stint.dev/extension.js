// stint focus, GNOME Shell 45 and later (ES modules): exports
// dev.stint.Focus1.FocusedWindow() on the session bus, which answers the
// focused window's title, application id (or WM class) and pid. Read on
// request only; the extension keeps and sends nothing by itself.
import Gio from 'gi://Gio';
import {Extension} from 'resource:///org/gnome/shell/extensions/extension.js';

const IFACE = `<node>
  <interface name="dev.stint.Focus1">
    <method name="FocusedWindow">
      <arg type="s" direction="out" name="title"/>
      <arg type="s" direction="out" name="app"/>
      <arg type="u" direction="out" name="pid"/>
    </method>
  </interface>
</node>`;

export default class StintFocus extends Extension {
    enable() {
        this._object = Gio.DBusExportedObject.wrapJSObject(IFACE, this);
        this._object.export(Gio.DBus.session, '/dev/stint/Focus');
        this._name = Gio.bus_own_name_on_connection(Gio.DBus.session, 'dev.stint.Focus',
            Gio.BusNameOwnerFlags.NONE, null, null);
    }

    disable() {
        Gio.bus_unown_name(this._name);
        this._object.unexport();
        this._object = null;
    }

    FocusedWindow() {
        const w = global.display.get_focus_window();
        if (!w)
            return ['', '', 0];
        const app = w.get_gtk_application_id() || w.get_wm_class() || '';
        return [w.get_title() || '', app, Math.max(w.get_pid(), 0)];
    }
}
