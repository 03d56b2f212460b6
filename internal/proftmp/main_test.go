package prof
import ("testing";"context";"io";"os";"github.com/rebindwatch/rebindwatch/app")
func TestProf(t *testing.T){
 f:=os.Getenv("PROF_FILE")
 err:=app.Run(context.Background(), app.Options{NoTUI:true,NoFollow:true,Emit:"summary",Logs:[]string{f}}, io.Discard, io.Discard)
 if err!=nil{t.Fatal(err)}
}
