// Stand-in for the bindgen output of appkit-nsworkspace-bindings, which needs
// the macOS SDK. Only the items active-win-pos-rs calls, with bindgen's shapes,
// so that scripts/check-macos.sh can type-check stint for macOS on Linux.
pub type id = *mut objc::runtime::Object;
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct NSWorkspace(pub id);
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct NSRunningApplication(pub id);
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct NSURL(pub id);
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct NSString(pub id);
pub trait INSWorkspace: Sized + 'static {
    unsafe fn sharedWorkspace() -> NSWorkspace {
        unimplemented!()
    }
    unsafe fn frontmostApplication(&self) -> NSRunningApplication {
        unimplemented!()
    }
}
impl INSWorkspace for NSWorkspace {}
pub trait INSRunningApplication: Sized + 'static {
    unsafe fn processIdentifier(&self) -> i32 {
        unimplemented!()
    }
    unsafe fn bundleURL(&self) -> NSURL {
        unimplemented!()
    }
}
impl INSRunningApplication for NSRunningApplication {}
pub trait INSURL: Sized + 'static {
    unsafe fn path(&self) -> NSString {
        unimplemented!()
    }
}
impl INSURL for NSURL {}
