// stint focus, GNOME Shell 40 to 44 (the imports-based extension format):
// the same D-Bus object as the ES-module version beside it.
'use strict';
const {Gio} = imports.gi;

const IFACE = `<node>
  <interface name="dev.stint.Focus1">
    <method name="FocusedWindow">
      <arg type="s" direction="out" name="title"/>
      <arg type="s" direction="out" name="app"/>
      <arg type="u" direction="out" name="pid"/>
    </method>
  </interface>
</node>`;

class StintFocus {
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

// eslint-disable-next-line no-unused-vars
function init() {
    return new StintFocus();
}
